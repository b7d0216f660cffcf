"""A staff member's agenda (日程): the visits, events and services due, overdue first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
import sqlalchemy.orm

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import Customer, Experience, Staff
from crm.models.enums import ExperienceStatus, Touchpoint


def on_agenda() -> sa.ColumnElement[bool]:
    """What a staff member's agenda (and morning digest) lists: planned visits, events and
    services; routine SMS are the scheduler's."""
    return sa.and_(
        Experience.status == ExperienceStatus.PLANNED,
        Experience.category != Touchpoint.ROUTINE,
    )


@dataclass
class Agenda:
    overdue: list[Experience]
    today: list[Experience]
    this_week: list[Experience]
    today_date: date
    week_end: date


def agenda(user: Staff, today: date | None = None) -> Agenda:
    """A staff member's visits, events and services due: overdue first, today, then the rest
    of this week (to Sunday). Routine SMS are the scheduler's, not on the agenda."""
    today = today or local_today()
    week_end = today + timedelta(days=6 - today.weekday())
    rows = list(
        db.session.scalars(
            sa.select(Experience)
            .join(Customer, Customer.id == Experience.customer_id)
            .where(
                Customer.owner_id == user.id,
                on_agenda(),
                Experience.due_on <= week_end,
            )
            .order_by(Experience.due_on, Experience.id)
            .options(sa.orm.contains_eager(Experience.customer))
        )
    )
    return Agenda(
        overdue=[e for e in rows if e.due_on < today],
        today=[e for e in rows if e.due_on == today],
        this_week=[e for e in rows if e.due_on > today],
        today_date=today,
        week_end=week_end,
    )
