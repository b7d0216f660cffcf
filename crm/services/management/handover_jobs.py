"""A handover too large for a web request (移交客户，后台执行): queued for the scheduler process.

Up to ``CRM_HANDOVER_INLINE`` customers (2,000 by default) move within the request, as they
always did. More are queued (``crm.core.jobs``) and the scheduler process moves them,
while the page shows the job queued, running, done with what moved, or failed with why.
Every refusal is checked before queueing, so a manager hears at once what is wrong with
the request; the job checks them again when it runs, as the customers may have changed
hands meanwhile, and then moves exactly what ``handover.hand_over`` moves inline.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from crm.core import jobs
from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import BackgroundJob, Customer, Staff
from crm.models.enums import ChurnLevel, Quadrant
from crm.services.management import handover

HANDOVER_JOB = "handover"


def hand_over_or_queue(
    actor: Staff,
    giver: Staff | None,
    receiver: Staff | None,
    selection: handover.Selection,
    deactivate: bool = False,
) -> handover.Handover | BackgroundJob:
    """Move the customers now if they are few, else queue the move (the caller commits).
    ``InvalidInput`` for every refusal of ``hand_over``, and while other long work is
    under way; nothing is written then."""
    errors = handover.refusals(actor, giver, receiver, deactivate, selection)
    if errors:
        raise InvalidInput(errors)
    handover.refuse_unseen(actor, giver, selection)
    customers = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Customer)
        .where(handover.chosen_by(actor, giver, selection))
    )
    if customers <= current_app.config["CRM_HANDOVER_INLINE"]:
        return handover.hand_over(actor, giver, receiver, selection, deactivate)
    params = {
        "actor_id": actor.id,
        "giver_id": giver.id,
        "receiver_id": receiver.id,
        "quadrant": selection.quadrant.value if selection.quadrant else None,
        "churn": selection.churn.value if selection.churn else None,
        "customer_ids": list(selection.customer_ids),
        "deactivate": deactivate,
        "customers": customers,
    }
    try:
        return jobs.enqueue(HANDOVER_JOB, params, actor)
    except jobs.JobBusy:
        raise InvalidInput(
            {"": _l("Other long work is under way; please try again once it is done.")}
        ) from None


def handover_job(params: dict, progress: Callable[[int, int], None]) -> dict:
    """The queued handover as the scheduler process runs it: one transaction, as inline
    (the job's end commits it); returns the counts the page shows."""
    progress(0, params["customers"])
    staff = {
        s.id: s
        for s in db.session.scalars(
            sa.select(Staff).where(
                Staff.id.in_([params["actor_id"], params["giver_id"], params["receiver_id"]])
            )
        )
    }
    selection = handover.Selection(
        quadrant=Quadrant(params["quadrant"]) if params["quadrant"] else None,
        churn=ChurnLevel(params["churn"]) if params["churn"] else None,
        customer_ids=tuple(params["customer_ids"]),
    )
    result = handover.hand_over(
        staff.get(params["actor_id"]),
        staff.get(params["giver_id"]),
        staff.get(params["receiver_id"]),
        selection,
        deactivate=params["deactivate"],
    )
    return {
        "giver_id": result.giver.id,
        "receiver_id": result.receiver.id,
        "customers": result.customers,
        "planned_experiences": result.planned_experiences,
        "open_callbacks": result.open_callbacks,
        "open_complaints": result.open_complaints,
        "open_opportunities": result.open_opportunities,
        "deactivated": result.deactivated,
    }


def latest_handover() -> BackgroundJob | None:
    """The last queued handover, for the page to show how it is going or went."""
    return jobs.latest(HANDOVER_JOB)


def summary_of(job: BackgroundJob) -> str | None:
    """A finished job's result in the same sentence as an inline handover's."""
    if not job.result:
        return None
    result = dict(job.result)
    giver = db.session.get(Staff, result.pop("giver_id"))
    receiver = db.session.get(Staff, result.pop("receiver_id"))
    return handover.Handover(giver, receiver, **result).summary()
