"""A birthday experience (生日关怀) for pamper and cultivate customers: the planner offers a
lifestyle experience or a visit in the days before the customer's birthday.

Seed 002/004: the customers of high capability are worth a personal gesture on their day. The
experience is the costliest of lifestyle and visit that the quadrant's matrix plans by cadence
(pamper: lifestyle ☆; cultivate: lifestyle is only at staff's choice, so a visit) and that
fits what is left of the customer's 12-month budget; where neither fits, none is planned (one
statement per season: nothing is half written). It falls on the last working day before the
birthday (solar or lunar, as ``crm.services.occasions`` keeps it), so never on a public
holiday, at most once a year, and carries the occasion, so the occasions calendar shows it
beside the birthday.
"""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from crm.extensions import db
from crm.models import Customer, Experience
from crm.models.base import utcnow
from crm.models.enums import (
    ExperienceStatus,
    PlanOrigin,
    Quadrant,
    RelationshipStatus,
    Touchpoint,
)
from crm.services.occasions import calendar, upcoming
from crm.services.planning import budget, greetings, holdouts, matrix

OCCASION = greetings.BIRTHDAY
QUADRANTS = (Quadrant.PAMPER, Quadrant.CULTIVATE)
# The categories offered, the most personal first.
CATEGORIES = (Touchpoint.LIFESTYLE, Touchpoint.VISIT)
# The experience comes at most this many days before the birthday (a long holiday before it
# may push the working day before further back: then none that year).
LEAD = upcoming.BIRTHDAY_LEAD
# Once a year: no other birthday experience of the customer's in this many days before.
YEAR = timedelta(days=330)


def _offers() -> dict[Quadrant, list[tuple[Touchpoint, object]]]:
    """Per quadrant, the categories it may be offered, costliest first, with their unit cost."""
    planned = {(r.quadrant, r.category): r.unit_cost for r in matrix.planned_rules()}
    return {
        q: [(c, planned[(q, c)]) for c in CATEGORIES if (q, c) in planned]
        for q in QUADRANTS
        if any((q, c) in planned for c in CATEGORIES)
    }


def _day_before(birthday: date) -> date:
    return calendar.working_day_before(birthday)


def _plan_season(
    days: list[date], today: date, until: date, scope, offers, limits: matrix.CostLimits
) -> int:
    where = [
        Customer.quadrant.in_(list(offers)),
        Customer.relationship_status != RelationshipStatus.LOST,
    ]
    if scope is not None:
        where.append(scope)
    # Each birthday's experience day, and where the year before it starts, as literals.
    kept = {d: _day_before(d) for d in days}
    kept = {d: day for d, day in kept.items() if today <= day <= until and d - day <= LEAD}
    if not kept:
        return 0
    # The customers' birthdays are found in one pass over them, read once by what follows.
    matches = (
        sa.union_all(*greetings.birthday_matches(list(kept), where))
        .cte("birthday_matches", nesting=True)
        .prefix_with("MATERIALIZED")
    )
    on = sa.case(*((matches.c.due_on == d, sa.literal(day, sa.Date)) for d, day in kept.items()))
    since = sa.case(*((matches.c.due_on == d, sa.literal(d - YEAR, sa.Date)) for d in kept))
    money = Experience.planned_cost.type
    # What each matched customer used, read for them alone (a few in a season, by index).
    used = (
        sa.select(sa.func.sum(budget.committed_cost() + budget.spent_cost()))
        .where(Experience.customer_id == matches.c.customer_id, budget.counted(today))
        .scalar_subquery()
    )
    room = limits.sql(Customer.quadrant, Customer.liquid_assets) - sa.type_coerce(
        sa.func.coalesce(used, sa.literal(0, money)), money
    )
    choices = []
    for quadrant, options in offers.items():
        for category, cost in options:
            fits = sa.and_(
                Customer.quadrant == quadrant.value,
                sa.literal(cost, money) <= room,
                sa.not_(holdouts.held_out(category.value, Customer.id)),
            )
            choices.append((fits, category.value, cost))
    category = sa.case(*((fits, sa.literal(c)) for fits, c, _ in choices))
    cost = sa.case(*((fits, sa.literal(amount, money)) for fits, _, amount in choices))
    earlier = sa.orm.aliased(Experience)
    offered = (
        sa.select(
            matches.c.customer_id,
            Customer.owner_id,
            category.label("category"),
            on.label("due_on"),
            cost.label("cost"),
        )
        .join(Customer, Customer.id == matches.c.customer_id)
        .where(
            matches.c.due_on.in_(list(kept)),
            ~sa.exists().where(
                earlier.customer_id == matches.c.customer_id,
                earlier.occasion == OCCASION,
                earlier.category != Touchpoint.ROUTINE,
                earlier.status != ExperienceStatus.CANCELLED,
                earlier.due_on > since,
            ),
        )
        .subquery()
    )
    taken = sa.orm.aliased(Experience)
    result = db.session.execute(
        sa.insert(Experience.__table__).from_select(
            ["customer_id", "owner_id", "category", "status", "origin", "due_on"]
            + ["planned_cost", "created_at", "version", "occasion"],
            sa.select(
                offered.c.customer_id,
                offered.c.owner_id,
                offered.c.category,
                sa.literal(ExperienceStatus.PLANNED.value),
                sa.literal(PlanOrigin.CADENCE.value),
                offered.c.due_on,
                offered.c.cost,
                sa.literal(utcnow(), Experience.created_at.type),
                sa.literal(1),
                sa.literal(OCCASION),
            ).where(
                offered.c.category.is_not(None),
                # The slot may hold a cadence experience of the category already.
                ~sa.exists().where(
                    taken.customer_id == offered.c.customer_id,
                    taken.category == offered.c.category,
                    taken.due_on == offered.c.due_on,
                    taken.origin == PlanOrigin.CADENCE,
                ),
            ),
        ),
        execution_options={"preserve_rowcount": True},
    )
    return result.rowcount


def plan_birthday_experiences(
    today: date, until: date, scope: sa.ColumnElement[bool] | None = None
) -> int:
    """Plan the birthday experiences due from ``today`` to ``until`` (for birthdays up to a
    week after it); returns how many. The caller commits."""
    offers = _offers()
    if until < today or not offers:
        return 0
    limits = matrix.customer_limits()
    first, last = today + timedelta(days=1), until + LEAD
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    step = greetings.DAYS_PER_STATEMENT
    # A season at a time: a later birthday sees the one planned before it (once a year).
    return sum(
        _plan_season(days[n : n + step], today, until, scope, offers, limits)
        for n in range(0, len(days), step)
    )
