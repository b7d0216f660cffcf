"""Visits and experiences off public holidays (法定节假日): each moves to the working day before.

A customer is not visited on Spring Festival or National Day, nor an event held then: what the
cadence planned on a public holiday (or one of its days off) moves to the last working day
before it by the official calendar (``crm.services.occasions.calendar``, 调休 included). SMS
stay on their day (a greeting belongs there), and so does what staff planned by hand.
"""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from crm.extensions import db
from crm.models import Customer, Experience
from crm.models.enums import ExperienceStatus, PlanOrigin, Touchpoint
from crm.services.occasions import calendar


def move_off_holidays(today: date, until: date, scope: sa.ColumnElement[bool] | None = None) -> int:
    """Move the cadence-planned experiences (SMS aside) due on a holiday from ``today`` to
    ``until`` to the working day before, unless that is past or the slot is taken; the
    caller commits. Returns how many moved."""
    moved = 0
    day = today
    while day <= until:
        if calendar.is_holiday(day):
            before = calendar.working_day_before(day)
            if before >= today:
                moved += _move(day, before, scope)
        day += timedelta(days=1)
    return moved


def _move(day: date, before: date, scope: sa.ColumnElement[bool] | None) -> int:
    taken = sa.orm.aliased(Experience)
    where = [
        Experience.due_on == day,
        Experience.status == ExperienceStatus.PLANNED,
        Experience.origin == PlanOrigin.CADENCE,
        Experience.category != Touchpoint.ROUTINE,
        ~sa.exists().where(
            taken.customer_id == Experience.customer_id,
            taken.category == Experience.category,
            taken.due_on == before,
            taken.origin == PlanOrigin.CADENCE,
        ),
    ]
    if scope is not None:
        where.append(Experience.customer_id.in_(sa.select(Customer.id).where(scope)))
    result = db.session.execute(
        sa.update(Experience)
        .where(*where)
        .values(due_on=before, version=Experience.version + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
