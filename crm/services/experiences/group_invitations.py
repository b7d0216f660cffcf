"""Inviting the customers ticked on the customer list to a group event (批量邀约): the
events they may be invited to, and the one chosen. The invitations themselves are a guest
list's (``guest_lists.invite_customers``): each customer invited whole or refused with the
reason in words, the others invited all the same, because each refusal is a fact about one
customer that the staff can act on (a budget spent, a category the matrix never offers).
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from crm.core.clock import local_today
from crm.core.inputs import InvalidInput, as_id
from crm.extensions import db
from crm.models import GroupEvent, Staff
from crm.services.experiences.events import can_see_event, event_scope


def open_events(user: Staff, today: date | None = None) -> list[GroupEvent]:
    """The events ``user`` may invite to: their branch's (an admin's: all), from today on,
    attendance not yet recorded; soonest first."""
    today = today or local_today()
    return list(
        db.session.scalars(
            sa.select(GroupEvent)
            .where(
                event_scope(user),
                GroupEvent.held_on >= today,
                GroupEvent.attendance_recorded_at.is_(None),
            )
            .order_by(GroupEvent.held_on, GroupEvent.id)
            .limit(200)
        )
    )


def chosen_event(user: Staff, number: object) -> GroupEvent:
    """The event chosen on the form, if ``user`` may see it."""
    event_id = as_id(number)
    event = db.session.get(GroupEvent, event_id) if event_id else None
    if event is None or not can_see_event(user, event):
        raise InvalidInput({"event": _l("Choose one of the listed events.")})
    return event
