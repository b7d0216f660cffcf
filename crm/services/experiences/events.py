"""Group events (一般活动, 高级活动): one date, one place, a capacity and a total cost.

Staff of a branch organise its events and see them listed; inviting customers is in
``invitations``, recording who came in ``attendance``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from crm.core import access, audit
from crm.core.clock import local_today
from crm.core.inputs import (
    InvalidInput,
    as_id,
    parse_amount,
    refuse_control_characters,
    refuse_too_long,
)
from crm.extensions import db
from crm.models import Branch, Experience, GroupEvent, Staff
from crm.models.enums import GROUP_TOUCHPOINTS, EventType, ExperienceStatus, Role, Touchpoint
from crm.services.experiences import plans

MAX_TOTAL_COST = Decimal("10000000.00")
MAX_CAPACITY = 10_000
TEXT_LIMITS = {"title": 120, "place": 200, "notes": 2000}
# Past events stay on the list this long (and until their attendance is recorded).
RECENT = timedelta(days=90)


def changed_meanwhile() -> InvalidInput:
    """The refusal when two people write to the same event at once (a seat, the attendance)."""
    return InvalidInput({"": _l("Someone changed the event at the same moment; please try again.")})


# --- seats --------------------------------------------------------------------------------


def holds_seat(invitation: Experience) -> bool:
    """An invitation holds a seat at its event until it is cancelled."""
    return invitation.status != ExperienceStatus.CANCELLED


def holding_seats() -> sa.ColumnElement[bool]:
    """``holds_seat`` as a WHERE clause, for counting seats in the database."""
    return Experience.status != ExperienceStatus.CANCELLED


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


# --- the list of events -------------------------------------------------------------------


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
            .where(Experience.group_event_id.in_(ids), holding_seats())
            .group_by(Experience.group_event_id)
        ).all()
    )
    return EventList(upcoming, recent, taken)


# --- creating an event --------------------------------------------------------------------


def _text(data: Mapping[str, Any], name: str, errors: dict, required: Any = None) -> str | None:
    text = (data.get(name) or "").strip() or None
    if text is None and required is not None:
        errors[name] = required
    refuse_too_long({name: (text, TEXT_LIMITS[name])}, errors)
    return text


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        return None


def _category(value: Any, errors: dict) -> Touchpoint | None:
    try:
        category = Touchpoint(value or "")
        if category not in GROUP_TOUCHPOINTS:
            raise ValueError
    except ValueError:
        errors["category"] = _l("Choose one of the listed values.")
        return None
    return category


def _event_type(value: Any, errors: dict) -> EventType | None:
    """The event's type; a caller that names none (as before types existed) holds a salon,
    which suits every tier."""
    if value in (None, ""):
        return EventType.SALON
    try:
        return EventType(value)
    except ValueError:
        errors["event_type"] = _l("Choose one of the listed values.")
        return None


def _held_on(raw: Any, today: date, errors: dict) -> date | None:
    """The event date: from today to a year ahead."""
    held_on = _date(raw) if raw not in (None, "") else None
    if raw in (None, ""):
        errors["held_on"] = _l("Enter the date.")
    elif held_on is None:
        errors["held_on"] = _l("Enter a date such as 2025-06-30.")
    elif held_on < today:
        errors["held_on"] = _l("The event date cannot be in the past.")
    elif held_on > today + plans.PLAN_AHEAD:
        errors["held_on"] = _l("Plan at most a year ahead.")
    return held_on


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

    ``data``: category (event or premium_event), event_type (salon by default), title,
    held_on, place, capacity, total_cost, notes, and for an admin branch_id.
    """
    fields = _read_event(user, data, today or local_today())
    event = GroupEvent(**fields, organiser_id=user.id)
    db.session.add(event)
    db.session.flush()
    changes = {
        "category": (None, fields["category"]),
        "event_type": (None, fields["event_type"]),
        "title": (None, fields["title"]),
        "held_on": (None, fields["held_on"]),
        "place": (None, fields["place"]),
        "capacity": (None, fields["capacity"]),
        "total_cost": (None, fields["total_cost"]),
        "branch_id": (None, fields["branch"].id),
        "notes": (None, fields["notes"]),
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


def _read_event(user: Staff, data: Mapping[str, Any], today: date) -> dict[str, Any]:
    """The new event's fields, checked, or the refusal with every error at once."""
    errors: dict[str, Any] = {}
    category = _category(data.get("category"), errors)
    event_type = _event_type(data.get("event_type"), errors)
    title = _text(data, "title", errors, required=_l("Enter the event's title."))
    place = _text(data, "place", errors, required=_l("Enter where the event is held."))
    notes = _text(data, "notes", errors)
    held_on = _held_on(data.get("held_on"), today, errors)
    capacity = _capacity(data.get("capacity"), errors)
    total_cost = parse_amount(data.get("total_cost"), "total_cost", errors, maximum=MAX_TOTAL_COST)
    branch = _branch(user, data.get("branch_id"), errors)
    refuse_control_characters({"title": title, "place": place, "notes": notes}, errors)
    if errors:
        raise InvalidInput(errors)
    return {
        "category": category,
        "event_type": event_type,
        "title": title,
        "held_on": held_on,
        "place": place,
        "capacity": capacity,
        "total_cost": total_cost,
        "notes": notes,
        "branch": branch,
    }
