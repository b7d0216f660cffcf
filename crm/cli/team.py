"""``flask crm handover``: a staff member's customers given to another (客户移交)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _

from crm.cli.terminal import fail
from crm.core.inputs import InvalidInput


@click.command("handover")
@click.option("--from", "giver_name", required=True, help="Username of the staff member leaving.")
@click.option("--to", "receiver_name", required=True, help="Username of the one taking over.")
@click.option("--quadrant", help="Only customers of this quadrant (develop, maintain, …).")
@click.option("--churn", help="Only customers at this churn risk (low, medium, high).")
@click.option("--customers", "customer_ids", help="Only these customer numbers: 12,57,…")
@click.option("--deactivate", is_flag=True, help="Deactivate the leaver in the same step.")
@click.option("--by", "actor_name", help="Act as this manager or admin (their reach applies).")
@with_appcontext
def handover_command(
    giver_name, receiver_name, quadrant, churn, customer_ids, deactivate, actor_name
):
    """Hand customers over with their open work, in one transaction, audited."""
    from crm.extensions import db
    from crm.services.management import handover

    try:
        actor = _staff(handover, actor_name, "by") if actor_name else None
        result = handover.hand_over(
            actor,
            _staff(handover, giver_name, "giver"),
            _staff(handover, receiver_name, "receiver"),
            handover.selection_from(quadrant, churn, customer_ids),
            deactivate=deactivate,
        )
    except InvalidInput as error:
        fail(error)
    db.session.commit()
    click.echo(result.summary())
    if result.deactivated:
        click.echo(_("%(name)s is deactivated.", name=result.giver.display_name))


def _staff(handover, username: str, field: str):
    staff = handover.staff_named(username)
    if staff is None:
        raise InvalidInput({field: _("No staff member is called %(name)s.", name=username)})
    return staff
