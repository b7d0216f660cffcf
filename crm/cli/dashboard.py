"""``flask crm dashboard-months``: the dashboard's stored months, brought up to date or made
again from every event (the nightly job ``dashboard_months`` does the former)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _


@click.command("dashboard-months")
@click.option("--rebuild", is_flag=True, help="Forget every stored month and store them all again.")
@with_appcontext
def dashboard_months_command(rebuild: bool):
    """Store the dashboard's monthly figures per branch up to the start of today."""
    from crm.extensions import db
    from crm.services.management import book_store

    summary = (book_store.rebuild if rebuild else book_store.refresh)()
    db.session.commit()
    click.echo(
        _(
            "Dashboard months stored up to %(until)s; rows written: %(rows)d.",
            until=summary.until.isoformat(timespec="minutes"),
            rows=summary.rows,
        )
    )
