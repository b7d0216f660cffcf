"""Group events (一般活动, 高级活动): one date, one place, a capacity and a total cost.

Staff invite customers where the experience matrix allows the category; each invitation is
an experience of the customer's, planned at an estimated share of the cost (the total over
the capacity). When attendance is recorded the total is shared equally among the guests who
came; those who did not cost nothing. Each guest's response is then recorded like any other
experience (``recording.record_experience``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_UP, Decimal
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
    parse_amount,
    refuse_control_characters,
)
from crm.extensions import db
from crm.models import Branch, Customer, Experience, GroupEvent, Staff
from crm.models.base import CENT, utcnow
from crm.models.enums import GROUP_TOUCHPOINTS, ExperienceStatus, PlanOrigin, Role, Touchpoint
from crm.services.experiences import recording

MAX_TOTAL_COST = Decimal("10000000.00")
MAX_CAPACITY = 10_000
TEXT_LIMITS = {"title": 120, "place": 200, "notes": 2000}
# A cadence-planned experience this close to the event date becomes the invitation.
LINK_WINDOW = timedelta(days=30)
# Past events stay on the list this long (and until their attendance is recorded).
RECENT = timedelta(days=90)

INVITATION_CLASH = (
    ("uq_experience_invitation",),
    "customer_id",
    _l("This customer is already invited."),
)


def _same_moment() -> InvalidInput:
    return InvalidInput({"": _l("Someone changed the event at the same moment; please try again.")})


# --- who sees what ------------------------------------------------------------------------


def event_scope(user: Staff) -> sa.ColumnElement[bool]:
    """The WHERE clause limiting events to those ``user`` may see: their branch's (admins all)."""
    if user.role == Role.ADMIN:
        return sa.true()
    if user.branch_id is None:
        return sa.false()
    return GroupEvent.branch_id == user.branch_id


def can_see_event(user: Staff, event: GroupEvent) -> bool:
    if user.role == Role.ADMIN:
        return True
    return user.branch_id is not None and event.branch_id == user.branch_id


def may_record_attendance(user: Staff, event: GroupEvent) -> bool:
    """The organiser, a manager of the event's branch, or an admin."""
    if not can_see_event(user, event):
        return False
    return user.id == event.organiser_id or user.role in (Role.MANAGER, Role.ADMIN)


# --- figures ------------------------------------------------------------------------------


def share_estimate(event: GroupEvent) -> Decimal:
    """What one seat is planned to cost: the total over the capacity, rounded up to the fen
    (so that a full event never plans less than it costs)."""
    return (event.total_cost / event.capacity).quantize(CENT, rounding=ROUND_UP)


def shares(total: Decimal, count: int) -> list[Decimal]:
    """``total`` shared equally among ``count`` guests, to the fen; the fen left over go one
    each to the first guests, so the shares add up to the total exactly."""
    if count <= 0:
        return []
    base = (total / count).quantize(CENT, rounding=ROUND_DOWN)
    extra = int((total - base * count) / CENT)
    return [base + CENT if i < extra else base for i in range(count)]


def seats_taken(event: GroupEvent) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(Experience.id)).where(
            Experience.group_event_id == event.id,
            Experience.status != ExperienceStatus.CANCELLED,
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


@dataclass
class EventList:
    upcoming: list[GroupEvent]
    recent: list[GroupEvent]
    taken: dict[int, int] = field(default_factory=dict)


def events_for(user: Staff, today: date | None = None, limit: int = 200) -> EventList:
    """The user's events: upcoming soonest first, then recent ones latest first (a past event
    stays listed until its attendance is recorded)."""
    today = today or local_today()
    query = sa.select(GroupEvent).where(event_scope(user)).options(selectinload(GroupEvent.branch))
    upcoming = list(
        db.session.scalars(
            query.where(GroupEvent.held_on >= today)
            .order_by(GroupEvent.held_on, GroupEvent.id)
            .limit(limit)
        )
    )
    recent = list(
        db.session.scalars(
            query.where(
                GroupEvent.held_on < today,
                sa.or_(
                    GroupEvent.held_on >= today - RECENT,
                    GroupEvent.attendance_recorded_at.is_(None),
                ),
            )
            .order_by(GroupEvent.held_on.desc(), GroupEvent.id.desc())
            .limit(limit)
        )
    )
    ids = [e.id for e in upcoming + recent]
    taken = dict(
        db.session.execute(
            sa.select(Experience.group_event_id, sa.func.count(Experience.id))
            .where(
                Experience.group_event_id.in_(ids),
                Experience.status != ExperienceStatus.CANCELLED,
            )
            .group_by(Experience.group_event_id)
        ).all()
    )
    return EventList(upcoming, recent, taken)


# --- creating an event --------------------------------------------------------------------


def _text(data: Mapping[str, Any], name: str, errors: dict, required: Any = None) -> str | None:
    text = (data.get(name) or "").strip() or None
    if text is None and required is not None:
        errors[name] = required
    elif text and len(text) > TEXT_LIMITS[name]:
        errors[name] = _l("At most %(n)d characters.", n=TEXT_LIMITS[name])
    return text


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        return None


def _capacity(value: Any, errors: dict) -> int | None:
    raw = value.strip() if isinstance(value, str) else value
    try:
        if isinstance(raw, bool):
            raise ValueError
        capacity = int(raw)
    except (TypeError, ValueError):
        capacity = None
    if capacity is None or not 1 <= capacity <= MAX_CAPACITY:
        errors["capacity"] = _l("Enter a number of places from 1 to %(n)d.", n=MAX_CAPACITY)
        return None
    return capacity


def _branch(user: Staff, raw: Any, errors: dict) -> Branch | None:
    """The branch holding the event: the user's own; an admin picks one."""
    if user.role != Role.ADMIN:
        if user.branch is None:
            errors["branch_id"] = _l("Only staff of a branch can organise its events.")
        return user.branch
    wanted = as_id(raw) if raw not in (None, "") else user.branch_id
    for branch in access.visible_branches(user):
        if branch.id == wanted:
            return branch
    errors["branch_id"] = _l("Choose one of the listed values.")
    return None


def create_event(user: Staff, data: Mapping[str, Any], today: date | None = None) -> GroupEvent:
    """Organise a group event for the user's branch; the caller commits.

    ``data``: category (event or premium_event), title, held_on, place, capacity,
    total_cost, notes, and for an admin branch_id.
    """
    today = today or local_today()
    errors: dict[str, Any] = {}
    try:
        category = Touchpoint(data.get("category") or "")
        if category not in GROUP_TOUCHPOINTS:
            raise ValueError
    except ValueError:
        errors["category"] = _l("Choose one of the listed values.")
        category = None
    title = _text(data, "title", errors, required=_l("Enter the event's title."))
    place = _text(data, "place", errors, required=_l("Enter where the event is held."))
    notes = _text(data, "notes", errors)
    raw_date = data.get("held_on")
    held_on = _date(raw_date) if raw_date not in (None, "") else None
    if raw_date in (None, ""):
        errors["held_on"] = _l("Enter the date.")
    elif held_on is None:
        errors["held_on"] = _l("Enter a date such as 2025-06-30.")
    elif held_on < today:
        errors["held_on"] = _l("The event date cannot be in the past.")
    elif held_on > today + recording.PLAN_AHEAD:
        errors["held_on"] = _l("Plan at most a year ahead.")
    capacity = _capacity(data.get("capacity"), errors)
    total_cost = parse_amount(data.get("total_cost"), "total_cost", errors, maximum=MAX_TOTAL_COST)
    branch = _branch(user, data.get("branch_id"), errors)
    refuse_control_characters({"title": title, "place": place, "notes": notes}, errors)
    if errors:
        raise InvalidInput(errors)

    event = GroupEvent(
        category=category,
        title=title,
        held_on=held_on,
        place=place,
        capacity=capacity,
        total_cost=total_cost,
        notes=notes,
        branch=branch,
        organiser_id=user.id,
    )
    db.session.add(event)
    db.session.flush()
    changes = {
        "category": (None, category),
        "title": (None, title),
        "held_on": (None, held_on),
        "place": (None, place),
        "capacity": (None, capacity),
        "total_cost": (None, total_cost),
        "branch_id": (None, branch.id),
        "notes": (None, notes),
    }
    audit.record(
        user,
        "group_event",
        event.id,
        "create",
        {k: v for k, v in changes.items() if v[1] is not None},
        version=event.version,
    )
    return event


# --- invitations --------------------------------------------------------------------------


def find_customer(user: Staff, number: Any) -> Customer:
    """The customer with this number (客户编号), if the user may see them."""
    customer_id = as_id(number)
    customer = db.session.get(Customer, customer_id) if customer_id else None
    if customer is None or not access.can_see_customer(user, customer):
        raise InvalidInput({"customer_id": _l("No customer of yours has this number.")})
    return customer


def _refuse_unless_open(event: GroupEvent, today: date) -> None:
    if event.attendance_recorded_at is not None:
        raise InvalidInput({"": _l("The event's attendance has been recorded.")})
    if event.held_on < today:
        raise InvalidInput({"": _l("The event is over.")})


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


def _flush_touching(event: GroupEvent) -> None:
    """Flush with the event touched, so two writers filling the last seat collide."""
    event.updated_at = utcnow()
    try:
        flush_or_explain(INVITATION_CLASH)
    except StaleDataError:
        db.session.rollback()
        raise _same_moment() from None


def invite(
    user: Staff,
    event: GroupEvent,
    customer: Customer,
    reason: str | None = None,
    today: date | None = None,
) -> Experience:
    """Invite one customer (the invitation is an experience of theirs); the caller commits.

    Refused past the capacity, where the matrix never offers the category, or past the
    customer's budget at the estimated share; a manager (or admin) may approve the last two
    with a reason, as with any other plan.
    """
    today = today or local_today()
    if not can_see_event(user, event) or not access.can_see_customer(user, customer):
        raise InvalidInput({"customer_id": _l("No customer of yours has this number.")})
    _refuse_unless_open(event, today)
    reason = (reason or "").strip() or None
    errors: dict[str, Any] = {}
    if reason and len(reason) > recording.REASON_LIMIT:
        errors["approval_reason"] = _l("At most %(n)d characters.", n=recording.REASON_LIMIT)
    refuse_control_characters({"approval_reason": reason}, errors)
    if errors:
        raise InvalidInput(errors)

    existing = db.session.scalar(
        sa.select(Experience).where(
            Experience.group_event_id == event.id, Experience.customer_id == customer.id
        )
    )
    if existing is not None and existing.status != ExperienceStatus.CANCELLED:
        raise InvalidInput({"customer_id": _l("This customer is already invited.")})
    if seats_taken(event) >= event.capacity:
        raise InvalidInput({"": _l("The event is full (%(n)d places).", n=event.capacity)})

    recording.lock_budget(customer)
    share = share_estimate(event)
    linked = _cadence_to_link(customer, event) if existing is None else None
    # A linked plan already holds its own cost in the budget; only the difference is new.
    extra = share - linked.planned_cost if linked is not None else share
    approval = recording.refusal_reasons(customer, event.category, extra, today)
    if extra <= 0:
        approval.pop("planned_cost", None)
    if approval:
        if not recording.may_approve(user):
            approval[""] = _l("A manager can approve it with a reason.")
            raise recording.OverLimit(approval)
        if not reason:
            approval["approval_reason"] = _l("Give the reason for approving this.")
            raise recording.OverLimit(approval)
    approved = {"approved_by_id": user.id, "approval_reason": reason} if approval else {}

    if existing is not None:
        experience, action = existing, "reinvite"
    elif linked is not None:
        experience, action = linked, "link"
    else:
        experience, action = None, "create"
    if experience is None:
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
        before: dict[str, Any] = {}
    else:
        before = {
            "outcome": experience.status,
            "due_on": experience.due_on,
            "planned_cost": experience.planned_cost,
            "group_event_id": experience.group_event_id,
            "approved_by_id": experience.approved_by_id,
        }
        experience.status = ExperienceStatus.PLANNED
        experience.due_on = event.held_on
        experience.planned_cost = share
        experience.group_event_id = event.id
        experience.approved_by_id = approved.get("approved_by_id", experience.approved_by_id)
        experience.approval_reason = approved.get("approval_reason", experience.approval_reason)
    _flush_touching(event)

    after = {
        "outcome": experience.status,
        "due_on": experience.due_on,
        "planned_cost": experience.planned_cost,
        "group_event_id": event.id,
    }
    if approval:
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
        reason=reason if approval else None,
    )
    audit.record(
        user,
        "group_event",
        event.id,
        "invite",
        {"customer_id": (None, customer.id)},
        version=event.version,
    )
    return experience


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


# --- attendance ---------------------------------------------------------------------------


def record_attendance(
    user: Staff,
    event: GroupEvent,
    attended_customer_ids: Iterable[Any],
    expected_version: int,
    today: date | None = None,
) -> list[Experience]:
    """Record who came (once, from the event date on) and share the cost among them.

    Every invitation still standing becomes done (came) or a no-show (did not); the guests
    who came carry equal shares of the total cost, the others nothing. The caller commits;
    each guest's response is then recorded on their own experience.
    """
    today = today or local_today()
    if not may_record_attendance(user, event):
        raise InvalidInput({"": _l("The organiser or a manager records the attendance.")})
    if event.attendance_recorded_at is not None:
        raise InvalidInput({"": _l("The event's attendance has already been recorded.")})
    if event.held_on > today:
        raise InvalidInput({"": _l("Attendance can be recorded from the event date on.")})
    if event.version != expected_version:
        raise InvalidInput(
            {
                "": _l(
                    "Someone changed the guest list since you opened the page; "
                    "check it and record the attendance again."
                )
            }
        )
    invited = [g for g in guests(event) if g.status != ExperienceStatus.CANCELLED]
    by_customer = {g.customer_id: g for g in invited}
    wanted: set[int] = set()
    for raw in attended_customer_ids:
        customer_id = as_id(raw)
        if customer_id is None or customer_id not in by_customer:
            raise InvalidInput({"attended": _l("Only invited customers can have attended.")})
        wanted.add(customer_id)

    came = [g for g in invited if g.customer_id in wanted]  # in id order, as guests() returns
    cost_of = dict(zip((g.id for g in came), shares(event.total_cost, len(came)), strict=True))
    for guest in invited:
        guest.status = ExperienceStatus.DONE if guest.id in cost_of else ExperienceStatus.NO_SHOW
        guest.held_on = event.held_on
        guest.actual_cost = cost_of.get(guest.id, Decimal("0.00"))
    event.attendance_recorded_at = utcnow()
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        raise _same_moment() from None

    for guest in invited:
        audit.record(
            user,
            "experience",
            guest.id,
            "attendance",
            {
                "outcome": (ExperienceStatus.PLANNED, guest.status),
                "held_on": (None, guest.held_on),
                "actual_cost": (None, guest.actual_cost),
            },
            customer_id=guest.customer_id,
            version=guest.version,
        )
    audit.record(
        user,
        "group_event",
        event.id,
        "attendance",
        {
            "attendance_recorded_at": (None, event.attendance_recorded_at),
            "attended": (None, sorted(wanted)),
        },
        version=event.version,
    )
    return invited
