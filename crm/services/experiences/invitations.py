"""Inviting customers to a group event (活动邀约), seat by seat.

Staff invite customers where the experience matrix allows the category; each invitation is
an experience of the customer's, planned at an estimated share of the cost (the total over
the capacity), so the customer's budget sees it before the event is held.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_UP, Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from crm.core import access, audit
from crm.core.clock import local_today
from crm.core.inputs import (
    InvalidInput,
    as_id,
    flush_or_explain,
    refuse_control_characters,
    refuse_too_long,
)
from crm.extensions import db
from crm.models import Customer, Experience, GroupEvent, Staff
from crm.models.base import CENT, utcnow
from crm.models.enums import ExperienceStatus, PlanOrigin
from crm.services.experiences import event_types, plans
from crm.services.experiences.events import (
    can_see_event,
    changed_meanwhile,
    holding_seats,
    holds_seat,
)
from crm.services.planning import contact_dates, holdouts

# A cadence-planned experience this close to the event date becomes the invitation.
LINK_WINDOW = timedelta(days=30)

INVITATION_CLASH = (
    ("uq_experience_invitation",),
    "customer_id",
    _l("This customer is already invited."),
)


# --- seats --------------------------------------------------------------------------------


def share_estimate(event: GroupEvent) -> Decimal:
    """What one seat is planned to cost: the total over the capacity, rounded up to the fen
    (so that a full event never plans less than it costs)."""
    return (event.total_cost / event.capacity).quantize(CENT, rounding=ROUND_UP)


def seats_taken(event: GroupEvent, guests: list[Experience] | None = None) -> int:
    """The seats the event's invitations hold: counted among ``guests`` when the caller has
    them (``guests(event)``), else in the database."""
    if guests is not None:
        return sum(1 for g in guests if holds_seat(g))
    return db.session.scalar(
        sa.select(sa.func.count(Experience.id)).where(
            Experience.group_event_id == event.id, holding_seats()
        )
    )


def guests(event: GroupEvent) -> list[Experience]:
    """Every invitation to the event (cancelled ones too), in the order they were made."""
    return list(
        db.session.scalars(
            sa.select(Experience)
            .where(Experience.group_event_id == event.id)
            .options(selectinload(Experience.customer).selectinload(Customer.owner))
            .order_by(Experience.id)
        )
    )


def find_customer(user: Staff, number: Any) -> Customer:
    """The customer with this number (客户编号), if the user may see them."""
    customer_id = as_id(number)
    customer = db.session.get(Customer, customer_id) if customer_id else None
    if customer is None or not access.can_see_customer(user, customer):
        raise InvalidInput({"customer_id": _l("No customer of yours has this number.")})
    return customer


# --- inviting -----------------------------------------------------------------------------


def invite(
    user: Staff,
    event: GroupEvent,
    customer: Customer,
    reason: str | None = None,
    today: date | None = None,
    outside_tiers_confirmed: bool = False,
) -> Experience:
    """Invite one customer (the invitation is an experience of theirs); the caller commits.

    Refused past the capacity, where the matrix never offers the category, or past the
    customer's budget at the estimated share; a manager (or admin) may approve the last two
    with a reason, as with any other plan. A customer outside the asset tiers the event's
    type suits is invited only once the staff member confirms (``event_types.OutsideTiers``).
    """
    today = today or local_today()
    if not can_see_event(user, event) or not access.can_see_customer(user, customer):
        raise InvalidInput({"customer_id": _l("No customer of yours has this number.")})
    _refuse_unless_open(event, today)
    reason = _approval_reason(reason)
    existing = _earlier_invitation(event, customer)
    _refuse_unless_seat_free(event, existing)
    event_types.refuse_unconfirmed(event, [customer], outside_tiers_confirmed)

    plans.lock_budget(customer)
    share = share_estimate(event)
    linked = _cadence_to_link(customer, event) if existing is None else None
    # A linked plan already holds its own cost in the budget; only the difference is new.
    extra = share - linked.planned_cost if linked is not None else share
    approved = _approval(user, customer, event, extra, reason, today)

    if existing is not None:
        reused, action = existing, "reinvite"
    elif linked is not None:
        reused, action = linked, "link"
    else:
        reused, action = None, "create"
    experience, before = _seat(user, event, customer, reused, share, approved)
    _flush_touching(event)
    _audit_invitation(user, event, customer, experience, action, before, approved, reason)
    contact_dates.refresh([customer.id], today)
    # A guest a running experiment holds out of the event's category spoils its comparison:
    # the invitation stands, and the report counts it (the page says so).
    held_by = holdouts.holdout_experiment(customer.id, event.category)
    if held_by is not None:
        holdouts.record_contamination(held_by, customer.id, experience.id, user.id)
    return experience


def _refuse_unless_open(event: GroupEvent, today: date) -> None:
    if event.attendance_recorded_at is not None:
        raise InvalidInput({"": _l("The event's attendance has been recorded.")})
    if event.held_on < today:
        raise InvalidInput({"": _l("The event is over.")})


def _approval_reason(reason: str | None) -> str | None:
    reason = (reason or "").strip() or None
    errors: dict[str, Any] = {}
    refuse_too_long({"approval_reason": (reason, plans.REASON_LIMIT)}, errors)
    refuse_control_characters({"approval_reason": reason}, errors)
    if errors:
        raise InvalidInput(errors)
    return reason


def _earlier_invitation(event: GroupEvent, customer: Customer) -> Experience | None:
    """The customer's invitation to this event, if one was ever made (cancelled or not)."""
    return db.session.scalar(
        sa.select(Experience).where(
            Experience.group_event_id == event.id, Experience.customer_id == customer.id
        )
    )


def _refuse_unless_seat_free(event: GroupEvent, existing: Experience | None) -> None:
    if existing is not None and existing.status != ExperienceStatus.CANCELLED:
        raise InvalidInput({"customer_id": _l("This customer is already invited.")})
    if seats_taken(event) >= event.capacity:
        raise InvalidInput({"": _l("The event is full (%(n)d places).", n=event.capacity)})


def _cadence_to_link(customer: Customer, event: GroupEvent) -> Experience | None:
    """A cadence-planned experience of the event's category near its date, which the
    invitation then fulfils instead of adding a second one (the closest, if several)."""
    candidates = db.session.scalars(
        sa.select(Experience).where(
            Experience.customer_id == customer.id,
            Experience.category == event.category,
            Experience.origin == PlanOrigin.CADENCE,
            Experience.status == ExperienceStatus.PLANNED,
            Experience.group_event_id.is_(None),
            Experience.due_on.between(event.held_on - LINK_WINDOW, event.held_on + LINK_WINDOW),
        )
    ).all()
    if not candidates:
        return None
    return min(candidates, key=lambda e: (abs((e.due_on - event.held_on).days), e.id))


def _approval(
    user: Staff,
    customer: Customer,
    event: GroupEvent,
    extra: Decimal,
    reason: str | None,
    today: date,
) -> dict[str, Any]:
    """The approval the invitation carries (empty: it needs none), or the refusal."""
    approval = plans.refusal_reasons(customer, event.category, extra, today)
    if extra <= 0:
        approval.pop("planned_cost", None)
    plans.require_approval(user, approval, reason)
    return {"approved_by_id": user.id, "approval_reason": reason} if approval else {}


def _seat(
    user: Staff,
    event: GroupEvent,
    customer: Customer,
    reused: Experience | None,
    share: Decimal,
    approved: dict[str, Any],
) -> tuple[Experience, dict[str, Any]]:
    """The experience holding the seat: a new one, or ``reused`` (an earlier invitation or a
    cadence plan) planned for the event; with what the reused one held before."""
    if reused is None:
        experience = Experience(
            customer=customer,
            category=event.category,
            status=ExperienceStatus.PLANNED,
            origin=PlanOrigin.EVENT,
            due_on=event.held_on,
            planned_cost=share,
            group_event_id=event.id,
            created_by_id=user.id,
            version=1,
            **approved,
        )
        db.session.add(experience)
        return experience, {}
    before = {
        "outcome": reused.status,
        "due_on": reused.due_on,
        "planned_cost": reused.planned_cost,
        "group_event_id": reused.group_event_id,
        "approved_by_id": reused.approved_by_id,
    }
    reused.status = ExperienceStatus.PLANNED
    reused.due_on = event.held_on
    reused.planned_cost = share
    reused.group_event_id = event.id
    reused.approved_by_id = approved.get("approved_by_id", reused.approved_by_id)
    reused.approval_reason = approved.get("approval_reason", reused.approval_reason)
    return reused, before


def _flush_touching(event: GroupEvent) -> None:
    """Flush with the event touched, so two writers filling the last seat collide."""
    event.updated_at = utcnow()
    try:
        flush_or_explain(INVITATION_CLASH)
    except StaleDataError:
        db.session.rollback()
        raise changed_meanwhile() from None


def _audit_invitation(
    user: Staff,
    event: GroupEvent,
    customer: Customer,
    experience: Experience,
    action: str,
    before: dict[str, Any],
    approved: dict[str, Any],
    reason: str | None,
) -> None:
    after = {
        "outcome": experience.status,
        "due_on": experience.due_on,
        "planned_cost": experience.planned_cost,
        "group_event_id": event.id,
    }
    if approved:
        after["approved_by_id"] = user.id
    if action == "create":
        after = {"category": event.category, **after}
        after.pop("outcome")
    audit.record(
        user,
        "experience",
        experience.id,
        "create" if action == "create" else "update",
        audit.diff(before, after),
        customer_id=customer.id,
        version=experience.version,
        reason=reason if approved else None,
    )
    audit.record(
        user,
        "group_event",
        event.id,
        "invite",
        {"customer_id": (None, customer.id)},
        version=event.version,
    )


# --- cancelling an invitation -------------------------------------------------------------


def cancel_invitation(
    user: Staff, event: GroupEvent, experience: Experience, today: date | None = None
) -> None:
    """Withdraw an invitation before the event; the seat is free again. The caller commits."""
    today = today or local_today()
    if (
        experience.group_event_id != event.id
        or not can_see_event(user, event)
        or not access.can_see_customer(user, experience.customer)
    ):
        raise InvalidInput({"": _l("No such invitation.")})
    _refuse_unless_open(event, today)
    if experience.status == ExperienceStatus.CANCELLED:
        raise InvalidInput({"": _l("This invitation was already cancelled.")})
    experience.status = ExperienceStatus.CANCELLED
    _flush_touching(event)
    contact_dates.refresh([experience.customer_id], today)
    audit.record(
        user,
        "experience",
        experience.id,
        "cancel",
        {"outcome": (ExperienceStatus.PLANNED, ExperienceStatus.CANCELLED)},
        customer_id=experience.customer_id,
        version=experience.version,
    )
    audit.record(
        user,
        "group_event",
        event.id,
        "uninvite",
        {"customer_id": (experience.customer_id, None)},
        version=event.version,
    )
