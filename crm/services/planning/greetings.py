"""Greeting SMS on the days customers keep (节日与生日问候): birthdays, festivals, anniversaries.

Once the cadence is planned, the planner adds a greeting SMS on each occasion up to the
horizon (``crm.services.occasions`` says which day each falls on). A greeting is a routine
contact like any other, so consent, opt-out, the sending window and the lost customer's
silence apply to it as to every SMS; it only carries the occasion, from which its text is
chosen when it is queued. A routine SMS planned for the same day becomes the greeting. Within
the weekly cap the greetings come first: the week's later routine SMS give way to them.

Set-based like the cadence: one statement per kind of occasion over the whole horizon.
"""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app

from crm.extensions import db
from crm.models import Customer, Experience, Policy
from crm.models.base import utcnow
from crm.models.enums import (
    ExperienceStatus,
    PlanOrigin,
    PolicyStatus,
    RelationshipStatus,
    Touchpoint,
)
from crm.services.occasions import birthdays, calendar
from crm.services.occasions.calendar import Festival
from crm.services.planning import holdouts, matrix

BIRTHDAY = "birthday"
POLICY_ANNIVERSARY = "policy_anniversary"
# Which greeting keeps its place first when more fall in one week than the cap allows.
PRECEDENCE = (BIRTHDAY, *(f.value for f in Festival), POLICY_ANNIVERSARY)
# Double Ninth (重阳) is the festival of the elderly; Qingming (清明) a day of remembrance,
# greeted only where the relationship is close enough for it.
ELDERLY_AGE = 60
QINGMING_WILLINGNESS = 60
# Days of occasions matched in one statement (each day has up to four lunar keys).
DAYS_PER_STATEMENT = 90


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _keyed(columns: tuple, keys: dict[tuple, date]) -> tuple[sa.ColumnElement, sa.Case]:
    """A condition that ``columns`` hold one of the ``keys``, and the day each key falls on:
    one pass over the rows, each matched against a short list (no join to a table of keys)."""
    condition = sa.tuple_(*columns).in_(list(keys))
    day = sa.case(
        *(
            (sa.and_(*(c == v for c, v in zip(columns, key, strict=True))), sa.literal(d, sa.Date))
            for key, d in keys.items()
        )
    )
    return condition, day


def _greetable(quadrants: list, scope: sa.ColumnElement[bool] | None) -> list:
    """Who may be greeted: the quadrant sends SMS, the customer agreed and did not opt out
    (as ``planner.reachable_by_sms``), and is not lost."""
    where = [
        Customer.quadrant.in_(quadrants),
        Customer.sms_consent.is_(True),
        Customer.sms_opt_out_at.is_(None),
        Customer.relationship_status != RelationshipStatus.LOST,
        # A greeting is a routine SMS: a running experiment's routine holdout gets none.
        sa.not_(holdouts.held_out(Touchpoint.ROUTINE.value, Customer.id)),
    ]
    if scope is not None:
        where.append(scope)
    return where


def birthday_matches(days: list[date], where: list) -> list[sa.Select]:
    """customer_id, owner_id, quadrant, due_on (the birthday) of the customers ``where``
    selects whose birthday (solar or lunar) falls on one of ``days``."""
    month, day = sa.extract("month", Customer.birth_date), sa.extract("day", Customer.birth_date)
    solar, solar_day = _keyed(
        (month, day), {key: d for d in days for key in birthdays.solar_keys_on(d)}
    )
    columns = (Customer.lunar_birth_month, Customer.lunar_birth_day, Customer.lunar_birth_leap)
    lunar, lunar_day = _keyed(
        columns,
        {(k.month, k.day, k.leap): d for d in days for k in birthdays.lunar_keys_on(d)},
    )
    return [
        sa.select(
            Customer.id.label("customer_id"),
            Customer.owner_id,
            Customer.quadrant,
            solar_day.label("due_on"),
        )
        .where(*where, Customer.birthday_is_lunar.is_(False), solar)
        .where(Customer.birth_date < solar_day),
        sa.select(
            Customer.id.label("customer_id"),
            Customer.owner_id,
            Customer.quadrant,
            lunar_day.label("due_on"),
        )
        .where(*where, Customer.birthday_is_lunar.is_(True), lunar)
        .where(sa.or_(Customer.birth_date.is_(None), Customer.birth_date < lunar_day)),
    ]


def _festival_matches(day: date, festival: Festival, where: list) -> sa.Select:
    select = sa.select(
        Customer.id.label("customer_id"),
        Customer.owner_id,
        Customer.quadrant,
        sa.literal(day, sa.Date).label("due_on"),
    ).where(*where)
    if festival == Festival.DOUBLE_NINTH:
        born_by = birthdays.solar_birthday_in(day.year - ELDERLY_AGE, day)
        select = select.where(Customer.birth_date <= born_by)
    elif festival == Festival.QINGMING:
        select = select.where(Customer.willingness >= QINGMING_WILLINGNESS)
    return select


def _anniversary_matches(days: list[date], where: list) -> sa.Select:
    month, day = sa.extract("month", Policy.start_date), sa.extract("day", Policy.start_date)
    started, on = _keyed((month, day), {key: d for d in days for key in birthdays.solar_keys_on(d)})
    return (
        sa.select(
            Customer.id.label("customer_id"),
            Customer.owner_id,
            Customer.quadrant,
            on.label("due_on"),
        )
        .join(Policy, Policy.customer_id == Customer.id)
        .where(*where, Policy.status == PolicyStatus.IN_FORCE, started)
        .where(sa.extract("year", Policy.start_date) < sa.extract("year", on))
        .distinct()
    )


def _same_slot(matches: sa.Subquery) -> sa.ColumnElement[bool]:
    return sa.and_(
        Experience.customer_id == matches.c.customer_id,
        Experience.due_on == matches.c.due_on,
        Experience.category == Touchpoint.ROUTINE,
        Experience.origin == PlanOrigin.CADENCE,
    )


def _greet(occasion: str, select: sa.Select, costs: dict, days: tuple[date, date]) -> int:
    """Plan the greeting ``occasion`` for each (customer, day) ``select`` matches, its days
    within ``days`` (first, last): a routine SMS planned that day becomes it, else a new one
    is planned (unless that slot was taken)."""
    matches = select.subquery()
    db.session.execute(
        sa.update(Experience)
        .where(
            # The days bound the rows looked at to a range of (status, due_on): without
            # them every planned experience of the bank was matched against the customers.
            # The matches are read once, not per row (a correlated EXISTS over a DISTINCT
            # made SQLite read every customer for every experience).
            Experience.status == ExperienceStatus.PLANNED,
            Experience.due_on.between(*days),
            Experience.category == Touchpoint.ROUTINE,
            Experience.origin == PlanOrigin.CADENCE,
            Experience.occasion.is_(None),
            sa.tuple_(Experience.customer_id, Experience.due_on).in_(
                sa.select(matches.c.customer_id, matches.c.due_on)
            ),
        )
        .values(occasion=occasion, version=Experience.version + 1)
        .execution_options(synchronize_session=False)
    )
    money = Experience.planned_cost.type
    cost = sa.case(
        *(
            (matches.c.quadrant == q.value, sa.literal(amount, money))
            for q, amount in costs.items()
        ),
        else_=sa.literal(0, money),
    )
    columns = ["customer_id", "owner_id", "category", "status", "origin", "due_on"]
    columns += ["planned_cost", "created_at", "version", "occasion"]
    result = db.session.execute(
        sa.insert(Experience.__table__).from_select(
            columns,
            sa.select(
                matches.c.customer_id,
                matches.c.owner_id,
                sa.literal(Touchpoint.ROUTINE.value),
                sa.literal(ExperienceStatus.PLANNED.value),
                sa.literal(PlanOrigin.CADENCE.value),
                matches.c.due_on,
                cost,
                sa.literal(utcnow(), Experience.created_at.type),
                sa.literal(1),
                sa.literal(occasion),
            ).where(~sa.exists().where(_same_slot(matches))),
        ),
        execution_options={"preserve_rowcount": True},
    )
    return result.rowcount


def _give_way(today: date, until: date, scope: sa.ColumnElement[bool] | None) -> int:
    """In each week (Monday to Sunday) with a greeting, cancel the planned routine SMS past
    the weekly cap: what was sent stays, then the greetings, then the earlier routine ones."""
    monday = today - timedelta(days=today.weekday())
    weeks = [monday + timedelta(weeks=n) for n in range((until - monday).days // 7 + 1)]
    week = sa.case(
        *(
            (Experience.due_on.between(start, start + timedelta(days=6)), sa.literal(n))
            for n, start in enumerate(weeks)
        )
    )
    partition = (Experience.customer_id, week)
    precedence = sa.case(
        (Experience.status != ExperienceStatus.PLANNED, 0),
        *((Experience.occasion == kind, n + 1) for n, kind in enumerate(PRECEDENCE)),
        else_=len(PRECEDENCE) + 1,
    )
    ranked = sa.select(
        Experience.id,
        Experience.status,
        Experience.due_on,
        sa.func.row_number()
        .over(partition_by=partition, order_by=(precedence, Experience.due_on, Experience.id))
        .label("place"),
        sa.func.max(sa.case((Experience.occasion.is_not(None), 1), else_=0))
        .over(partition_by=partition)
        .label("greeted"),
    ).where(
        Experience.category == Touchpoint.ROUTINE,
        Experience.status != ExperienceStatus.CANCELLED,
        Experience.due_on.between(weeks[0], weeks[-1] + timedelta(days=6)),
    )
    if scope is not None:
        ranked = ranked.where(Experience.customer_id.in_(sa.select(Customer.id).where(scope)))
    ranked = ranked.subquery()
    cap = int(current_app.config["CRM_SMS_WEEKLY_CAP"])
    over_cap = sa.select(ranked.c.id).where(
        ranked.c.place > cap,
        ranked.c.greeted == 1,
        ranked.c.status == ExperienceStatus.PLANNED.value,
        ranked.c.due_on >= today,
    )
    result = db.session.execute(
        sa.update(Experience)
        .where(Experience.id.in_(over_cap))
        .values(status=ExperienceStatus.CANCELLED, version=Experience.version + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def plan_greetings(
    today: date, until: date, scope: sa.ColumnElement[bool] | None = None
) -> tuple[int, int]:
    """Plan the greetings from ``today`` to ``until``; (planned, routine SMS that gave way).
    The caller commits."""
    costs = {
        r.quadrant: r.unit_cost for r in matrix.planned_rules() if r.category == Touchpoint.ROUTINE
    }
    if until < today or not costs:
        return 0, 0
    where = _greetable(list(costs), scope)
    days = _days(today, until)
    # A key falls on one day within a season (90 days): a long horizon is read a season at a time.
    seasons = [days[n : n + DAYS_PER_STATEMENT] for n in range(0, len(days), DAYS_PER_STATEMENT)]
    planned = 0
    for season in seasons:
        for select in birthday_matches(season, where):
            planned += _greet(BIRTHDAY, select, costs, (season[0], season[-1]))
    for day, festival in calendar.festivals_between(today, until):
        planned += _greet(
            festival.value, _festival_matches(day, festival, where), costs, (day, day)
        )
    for season in seasons:
        matches = _anniversary_matches(season, where)
        planned += _greet(POLICY_ANNIVERSARY, matches, costs, (season[0], season[-1]))
    # Converting a routine SMS adds none: the cap can only be passed by a new greeting.
    return planned, (_give_way(today, until, scope) if planned else 0)
