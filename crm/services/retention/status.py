"""The relationship status (客户关系状态): active, dormant, or lost (流失) with a reason and a date.

Lost is the outcome churn warning predicts, and a fact the bank records. A lost customer leaves
every plan and every SMS queue at once: their planned experiences are cancelled and their
queued marketing messages withdrawn here, and the planner and the SMS enqueue never pick them
again (``crm.services.planning.planner``, ``crm.services.outreach.enqueue``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from crm.core import audit
from crm.core.clock import local_today
from crm.core.inputs import InvalidInput, date_refusal
from crm.core.revisions import flush_revision, require_version
from crm.extensions import db
from crm.models import Customer, Experience, OutboxMessage, Staff
from crm.models.enums import (
    ExperienceStatus,
    LostReason,
    MessagePurpose,
    OutboxStatus,
    RelationshipStatus,
)
from crm.services.experiences.plans import opened_on
from crm.services.planning import contact_dates

WITHDRAWN = "customer lost"  # the outbox's note on the messages withdrawn


def _member(enum, value: Any):
    try:
        return enum(str(value or "").strip())
    except ValueError:
        return None


def read_status(
    customer: Customer, data: Mapping[str, Any], today: date | None = None
) -> tuple[RelationshipStatus, LostReason | None, date | None]:
    """The status, reason and date as given, or ``InvalidInput`` saying what is wrong: lost
    needs a reason and a date, neither in the future nor before the dossier was opened."""
    today = today or local_today()
    errors: dict[str, Any] = {}
    status = _member(RelationshipStatus, data.get("relationship_status"))
    if status is None:
        errors["relationship_status"] = _l("Choose active, dormant or lost.")
    if status != RelationshipStatus.LOST:
        if errors:
            raise InvalidInput(errors)
        return status, None, None
    reason = _member(LostReason, data.get("lost_reason"))
    if reason is None:
        errors["lost_reason"] = _l("Say why the customer was lost.")
    raw = data.get("lost_on")
    lost_on = raw if isinstance(raw, date) else None
    if lost_on is None and str(raw or "").strip():
        try:
            lost_on = date.fromisoformat(str(raw).strip())
        except ValueError:
            lost_on = None
    if lost_on is None:
        errors["lost_on"] = _l("Enter the date the customer was lost, as YYYY-MM-DD.")
    elif lost_on > today:
        errors["lost_on"] = _l("The date the customer was lost cannot be in the future.")
    elif lost_on < opened_on(customer):
        errors["lost_on"] = _l(
            "The date the customer was lost cannot be before the dossier was opened (%(day)s).",
            day=opened_on(customer).isoformat(),
        )
    elif refusal := date_refusal(lost_on, today=today):
        errors["lost_on"] = refusal
    if errors:
        raise InvalidInput(errors)
    return status, reason, lost_on


def set_relationship_status(
    user: Staff | None,
    customer: Customer,
    data: Mapping[str, Any],
    expected_version: int,
    today: date | None = None,
) -> dict[str, tuple[Any, Any]]:
    """Set the relationship status from the dossier (audited); a lost customer leaves every
    plan and SMS queue. Returns the changes; the caller commits."""
    status, reason, lost_on = read_status(customer, data, today)
    require_version(customer, expected_version)
    before = {
        "relationship_status": customer.relationship_status,
        "lost_reason": customer.lost_reason,
        "lost_on": customer.lost_on,
    }
    changes = audit.diff(
        before, {"relationship_status": status, "lost_reason": reason, "lost_on": lost_on}
    )
    if not changes:
        return {}
    customer.relationship_status = status
    customer.lost_reason = reason
    customer.lost_on = lost_on
    if status == RelationshipStatus.LOST:
        # A lost customer is no longer a warning to act on; the history keeps past scores.
        customer.churn_level = None
    flush_revision(Customer, customer.id, expected_version)
    audit.record(
        user,
        "customer",
        customer.id,
        "update",
        changes,
        customer_id=customer.id,
        version=customer.version,
    )
    if status == RelationshipStatus.LOST:
        leave_plans_and_queues(customer.id)
    return changes


def leave_plans_and_queues(customer_id: int) -> tuple[int, int]:
    """Cancel every planned experience of a lost customer (group invitations too) and withdraw
    their queued marketing SMS: (experiences cancelled, messages withdrawn)."""
    cancelled = db.session.execute(
        sa.update(Experience)
        .where(
            Experience.customer_id == customer_id,
            Experience.status == ExperienceStatus.PLANNED,
        )
        .values(status=ExperienceStatus.CANCELLED, version=Experience.version + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    contact_dates.refresh([customer_id])
    withdrawn = db.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.customer_id == customer_id,
            OutboxMessage.purpose == MessagePurpose.MARKETING,
            OutboxMessage.status == OutboxStatus.QUEUED,
        )
        .values(status=OutboxStatus.SKIPPED, error=WITHDRAWN)
        .execution_options(synchronize_session=False)
    ).rowcount
    return cancelled, withdrawn
