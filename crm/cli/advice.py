"""``flask crm`` commands of the next best experience (下一步体验建议)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _

from crm.extensions import db


@click.command("effect-history")
@with_appcontext
def effect_history_command():
    """Work out and store the bank's effect history per quadrant and category (the nightly
    job does the same); suggestions read the stored history."""
    from crm.services.advice import effects

    as_of = effects.store_history()
    db.session.commit()
    click.echo(
        _(
            "Effect history stored: experiences of the year before %(day)s, per quadrant and "
            "category.",
            day=as_of.isoformat(),
        )
    )
