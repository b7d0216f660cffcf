"""Recording who came to a group event (活动签到) and sharing its cost among them.

When attendance is recorded the total is shared equally among the guests who came; those who
did not cost nothing. Each guest's response is then recorded like any other experience
(``recording.record_experience``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError

from crm.core import audit
from crm.core.clock import local_today
from crm.core.inputs import InvalidInput, as_id
from crm.extensions import db
from crm.models import Experience, GroupEvent, Staff
from crm.models.base import CENT, utcnow
from crm.models.enums import ExperienceStatus, Role
from crm.services.experiences.events import can_see_event, changed_meanwhile, holds_seat
from crm.services.experiences.invitations import guests
from crm.services.planning import contact_dates


def may_record_attendance(user: Staff, event: GroupEvent) -> bool:
    """The organiser, a manager of the event's branch, or an admin."""
    if not can_see_event(user, event):
        return False
    return user.id == event.organiser_id or user.role in (Role.MANAGER, Role.ADMIN)


def shares(total: Decimal, count: int) -> list[Decimal]:
    """``total`` shared equally among ``count`` guests, to the fen; the fen left over go one
    each to the first guests, so the shares add up to the total exactly."""
    if count <= 0:
        return []
    base = (total / count).quantize(CENT, rounding=ROUND_DOWN)
    extra = int((total - base * count) / CENT)
    return [base + CENT if i < extra else base for i in range(count)]


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
    _refuse_unless_recordable(user, event, expected_version, today or local_today())
    invited = [g for g in guests(event) if holds_seat(g)]
    came = _who_came(invited, attended_customer_ids)

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
        raise changed_meanwhile() from None

    _audit_attendance(user, event, invited, sorted(g.customer_id for g in came))
    contact_dates.refresh(g.customer_id for g in invited)
    return invited


def _refuse_unless_recordable(
    user: Staff, event: GroupEvent, expected_version: int, today: date
) -> None:
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


def _who_came(invited: list[Experience], attended_customer_ids: Iterable[Any]) -> list[Experience]:
    """The invitations of the customers ticked as present, in the order they were made."""
    by_customer = {g.customer_id: g for g in invited}
    wanted: set[int] = set()
    for raw in attended_customer_ids:
        customer_id = as_id(raw)
        if customer_id is None or customer_id not in by_customer:
            raise InvalidInput({"attended": _l("Only invited customers can have attended.")})
        wanted.add(customer_id)
    return [g for g in invited if g.customer_id in wanted]


def _audit_attendance(
    user: Staff, event: GroupEvent, invited: list[Experience], attended: list[int]
) -> None:
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
            "attended": (None, attended),
        },
        version=event.version,
    )
