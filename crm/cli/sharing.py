"""``flask crm share ...``: de-identified files for the insurer partner (seed 000's 1+1 model)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _

from crm.cli.terminal import fail
from crm.core.inputs import InvalidInput
from crm.extensions import db


@click.group("share")
def share_group():
    """De-identified data for the insurer partner: pseudonyms and bands, no personal field."""


@share_group.command("export")
@click.option("--partner", required=True, help="The partner the file is for (its key's name).")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The CSV file to write.",
)
@click.option(
    "--as",
    "username",
    help="A manager or admin: the customers in their scope (default: the whole bank).",
)
@with_appcontext
def share_export(partner: str, out: Path, username: str | None):
    """Write a pseudonym, age band, quadrant, asset band, risk level and products held per
    customer; set CRM_SHARE_SECRET first (see the README). Audited."""
    from crm.services.transfer import partner_share

    user = _sharing_user(username)
    try:
        summary = partner_share.export_share(user, partner, out)
    except InvalidInput as error:
        fail(error)
    db.session.commit()
    click.echo(
        _(
            "Wrote %(rows)d de-identified customers for %(partner)s to %(path)s.",
            rows=summary.rows,
            partner=summary.partner,
            path=summary.path,
        )
    )


def _sharing_user(username: str | None):
    if username is None:
        return None
    import sqlalchemy as sa

    from crm.models import Staff
    from crm.models.enums import Role

    user = db.session.scalar(sa.select(Staff).where(Staff.username == username))
    if user is None:
        raise click.ClickException(_("No staff member %(name)s.", name=repr(username)))
    if user.role not in (Role.MANAGER, Role.ADMIN):
        raise click.ClickException(_("Only managers and admins share data with a partner."))
    return user
