"""The rolling planner: fills each customer's plan up to a horizon from the cadence rules.

For every matrix cell marked strategic or should with a cadence, a customer's next
experience of that category is due one interval after their latest one of it (or, for a
first one, on a day spread over the first interval, so a new bank is not all visited on
one day), and never before today. The plan is filled up to ``until``, strategic categories
first, and stops where the customer's budget would be passed. It never plans a category
the quadrant does not plan. It is set-based (one INSERT … SELECT per range of customers)
and idempotent: what it planned anchors the next run, and a unique index keeps two runs
from planning one slot twice.

Before filling, it cancels planned future experiences the customer's quadrant no longer
allows, so after a move the plan suits the new quadrant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import Customer, Experience, TouchpointRule
from crm.models.base import utcnow
from crm.models.enums import (
    PLANNED_MARKS,
    ExperienceStatus,
    Mark,
    PlanOrigin,
    RelationshipStatus,
    Touchpoint,
)
from crm.services.occasions import calendar
from crm.services.planning import (
    birthday_experiences,
    budget,
    contact_dates,
    greetings,
    holdouts,
    holidays,
    matrix,
)


@dataclass
class PlanSummary:
    planned: int = 0
    cancelled: int = 0


def reachable_by_sms() -> sa.ColumnElement[bool]:
    """Routine contacts are sent as SMS, so only to customers who agreed and did not opt out."""
    return sa.and_(Customer.sms_consent.is_(True), Customer.sms_opt_out_at.is_(None))


def _add_days(day: sa.ColumnElement, days: sa.ColumnElement) -> sa.ColumnElement:
    if db.engine.dialect.name == "sqlite":
        return sa.func.date(day, sa.literal("+") + sa.cast(days, sa.String) + sa.literal(" days"))
    return sa.cast(day, sa.Date) + days


def _later(a: sa.ColumnElement, b: sa.ColumnElement) -> sa.ColumnElement:
    if db.engine.dialect.name == "sqlite":
        return sa.func.max(a, b)
    return sa.func.greatest(a, b)


# Days between the first experiences of two categories with the same cadence (a prime, so
# that no common interval lines them up again).
_SPREAD_STEP = 7


def _candidates(
    rule: matrix.PlannedRule, today: date, until: date, in_range, next_of_each: bool = False
) -> sa.Select:
    """Every slot of one cadence rule from each customer's next due date up to ``until``
    (``next_of_each``: and the next one, wherever it falls)."""
    today_ = sa.literal(today, sa.Date)
    latest = (
        sa.select(sa.func.max(Experience.due_on))
        .where(Experience.customer_id == Customer.id, Experience.category == rule.category)
        .scalar_subquery()
    )
    # A first one falls somewhere in the first interval, by customer and by category: a new
    # bank is not all visited on one day, nor one customer's new categories all on one day.
    spread = list(Touchpoint).index(rule.category) * _SPREAD_STEP
    first = _add_days(today_, (Customer.id + spread) % rule.interval_days)
    start = _later(
        sa.func.coalesce(_add_days(latest, sa.literal(rule.interval_days)), first), today_
    )
    # A lost customer (流失, crm.services.retention) is planned nothing more, and a running
    # experiment's holdout none of its category (crm.services.experiments).
    where = [
        Customer.quadrant == rule.quadrant,
        Customer.relationship_status != RelationshipStatus.LOST,
        sa.not_(holdouts.held_out(rule.category.value, Customer.id)),
        in_range,
    ]
    if rule.category == Touchpoint.ROUTINE:
        where.append(reachable_by_sms())
    anchors = sa.select(
        Customer.id.label("customer_id"),
        Customer.owner_id,
        start.label("start"),
        # The limit may differ per asset tier (matrix.CostLimits).
        Customer.liquid_assets.label("assets"),
    ).where(*where)
    anchors = anchors.subquery()
    steps = (until - today).days // rule.interval_days + 1
    step = sa.union_all(*(sa.select(sa.literal(k).label("k")) for k in range(steps))).subquery()
    due = _add_days(anchors.c.start, step.c.k * rule.interval_days)
    return (
        sa.select(
            anchors.c.customer_id,
            anchors.c.owner_id,
            sa.literal(rule.category.value).label("category"),
            sa.literal(rule.quadrant.value).label("quadrant"),
            due.label("due_on"),
            sa.literal(rule.unit_cost, Experience.planned_cost.type).label("cost"),
            sa.literal(rule.priority).label("priority"),
            anchors.c.assets,
        )
        .select_from(anchors)
        .join(step, sa.true())
        .where(
            sa.or_(due <= sa.literal(until, sa.Date), step.c.k == 0)
            if next_of_each and rule.category != Touchpoint.ROUTINE
            else due <= sa.literal(until, sa.Date)
        )
    )


def cancel_disallowed(
    today: date, scope: sa.ColumnElement[bool] | None = None, *, refresh: bool = True
) -> int:
    """Cancel planned experiences from today on that the customer's quadrant no longer allows:
    a "never" category (unless a manager approved it), a cadence-planned category the
    quadrant no longer plans or a running experiment holds the customer out of, SMS to a
    customer who can no longer receive them; and every one of a lost customer's. The next
    planned experience of the customers in ``scope`` follows (``refresh``; the planner
    refreshes once at its end instead)."""
    not_allowed = sa.or_(
        Customer.relationship_status == RelationshipStatus.LOST,
        sa.and_(Experience.approved_by_id.is_(None), TouchpointRule.mark == Mark.NEVER),
        sa.and_(
            Experience.origin == PlanOrigin.CADENCE,
            # An invitation to a group event is a person's choice, kept unless "never".
            Experience.group_event_id.is_(None),
            sa.or_(
                TouchpointRule.mark.not_in(PLANNED_MARKS),
                TouchpointRule.interval_days.is_(None),
                sa.and_(Experience.category == Touchpoint.ROUTINE, sa.not_(reachable_by_sms())),
                # Held out of the category by a running experiment since it was planned.
                holdouts.held_out(Experience.category, Customer.id),
            ),
        ),
    )
    customers = (
        sa.select(Customer.id)
        .join(
            TouchpointRule,
            sa.and_(
                TouchpointRule.quadrant == Customer.quadrant,
                TouchpointRule.category == Experience.category,
            ),
        )
        .where(Customer.id == Experience.customer_id, not_allowed)
        .correlate(Experience)
    )
    if scope is not None:
        customers = customers.where(scope)
    result = db.session.execute(
        sa.update(Experience)
        .where(
            Experience.status == ExperienceStatus.PLANNED,
            Experience.due_on >= today,
            customers.exists(),
        )
        .values(status=ExperienceStatus.CANCELLED, version=Experience.version + 1)
        .execution_options(synchronize_session=False)
    )
    if refresh and result.rowcount:
        contact_dates.refresh_where(_in(scope), today, contact=False)
    return result.rowcount


def _in(scope: sa.ColumnElement[bool] | None) -> sa.ColumnElement[bool]:
    return sa.true() if scope is None else scope


def plan_contacts(
    until: date,
    *,
    today: date | None = None,
    scope: sa.ColumnElement[bool] | None = None,
    chunk: int = 100_000,
    commit: bool = True,
    progress: Callable[[int, int], None] | None = None,
    next_of_each: bool = False,
) -> PlanSummary:
    """Fill every customer's plan (those in ``scope``) up to ``until``; commits per range of
    customers unless ``commit`` is False (then the caller commits). ``next_of_each`` plans
    the next experience of every category even when it falls after ``until``."""
    today = today or local_today()
    summary = PlanSummary(cancelled=cancel_disallowed(today, scope, refresh=False))
    if commit:
        db.session.commit()
    if until < today:
        contact_dates.refresh_where(_in(scope), today, contact=False)
        return summary
    rules = matrix.planned_rules()
    limits = matrix.customer_limits()
    money = Experience.planned_cost.type
    bounds = sa.select(sa.func.min(Customer.id), sa.func.max(Customer.id))
    if scope is not None:
        bounds = bounds.where(scope)
    low, high = db.session.execute(bounds).one()
    if low is None or not rules:
        contact_dates.refresh_where(_in(scope), today, contact=False)
        return summary
    now = sa.literal(utcnow(), Experience.created_at.type)
    start = low
    while start <= high:
        end = min(start + chunk - 1, high)
        in_range = sa.and_(
            Customer.id.between(start, end), scope if scope is not None else sa.true()
        )
        candidates = sa.union_all(
            *(_candidates(r, today, until, in_range, next_of_each) for r in rules)
        ).subquery()
        used = (
            budget.usage_by_customer(today)
            .where(Experience.customer_id.between(start, end))
            .subquery()
        )
        limit = limits.sql(candidates.c.quadrant, candidates.c.assets)
        running = sa.func.sum(candidates.c.cost).over(
            partition_by=candidates.c.customer_id,
            order_by=(candidates.c.priority, candidates.c.due_on, candidates.c.category),
            rows=(None, 0),
        )
        ranked = (
            sa.select(
                candidates.c.customer_id,
                candidates.c.owner_id,
                candidates.c.category,
                candidates.c.due_on,
                candidates.c.cost,
                (running + sa.func.coalesce(used.c.used, sa.literal(0, money))).label("total"),
                limit.label("limit"),
            )
            .select_from(candidates)
            .outerjoin(used, used.c.customer_id == candidates.c.customer_id)
            .subquery()
        )
        result = db.session.execute(
            sa.insert(Experience.__table__).from_select(
                [
                    "customer_id",
                    "owner_id",
                    "category",
                    "status",
                    "origin",
                    "due_on",
                    "planned_cost",
                    "created_at",
                    "version",
                ],
                sa.select(
                    ranked.c.customer_id,
                    ranked.c.owner_id,
                    ranked.c.category,
                    sa.literal(ExperienceStatus.PLANNED.value),
                    sa.literal(PlanOrigin.CADENCE.value),
                    ranked.c.due_on,
                    ranked.c.cost,
                    now,
                    sa.literal(1),
                ).where(ranked.c.total <= ranked.c.limit),
            ),
            # SQLAlchemy reports INSERT row counts only when asked to.
            execution_options={"preserve_rowcount": True},
        )
        summary.planned += result.rowcount
        if commit:
            db.session.commit()
        if progress:
            progress(end - low + 1, high - low + 1)
        start = end + 1
    _recount_experiences(summary.planned)
    # Nothing but SMS on a public holiday: to the working day before (planning.holidays).
    holidays.move_off_holidays(today, until, scope)
    # Greetings on the customers' occasions, within the weekly cap (planning.greetings).
    greeted, gave_way = greetings.plan_greetings(today, until, scope)
    summary.planned += greeted
    summary.cancelled += gave_way
    # A lifestyle experience or visit before pamper and cultivate customers' birthdays,
    # within their budget (planning.birthday_experiences).
    summary.planned += birthday_experiences.plan_birthday_experiences(today, until, scope)
    # Each customer's next planned experience, in one statement over the customers planned
    # (it also rolls past days that went by: crm.services.planning.contact_dates).
    contact_dates.refresh_where(_in(scope), today, contact=False)
    if commit:
        db.session.commit()
    return summary


def _recount_experiences(planned: int) -> None:
    """After planning more than a tenth of the experiences PostgreSQL last counted (a bank's
    first plan, or a new cadence), count them again before the occasions' statements read
    them. Left to the background's next pass, a first plan's greetings were planned against
    an experience table PostgreSQL still took for empty: a search of the whole table per
    customer, 170 s instead of 6 s at 200,000 customers."""
    if db.engine.dialect.name != "postgresql" or not planned:
        return
    counted = db.session.execute(
        sa.text("SELECT reltuples FROM pg_class WHERE oid = 'experience'::regclass")
    ).scalar()
    if planned > 0.1 * max(counted or 0, 0):
        db.session.execute(sa.text("ANALYZE experience"))


def horizon(today: date | None = None) -> date:
    """The default planning horizon (``CRM_PLAN_HORIZON_DAYS`` from today)."""
    from flask import current_app

    return (today or local_today()) + timedelta(days=current_app.config["CRM_PLAN_HORIZON_DAYS"])


def replan_customer(customer: Customer, today: date | None = None) -> PlanSummary:
    """After a move: cancel what the new quadrant does not allow and refill (no commit). The
    next experience of each category the new quadrant plans is kept in view, even beyond the
    horizon (a visit that just took place is followed by the next one), and no two of the
    customer's experiences but SMS share a day."""
    today = today or local_today()
    summary = plan_contacts(
        horizon(today),
        today=today,
        scope=Customer.id == customer.id,
        commit=False,
        next_of_each=True,
    )
    _unstack(customer, today)
    contact_dates.refresh([customer.id], today)
    return summary


def _unstack(customer: Customer, today: date) -> None:
    """Move each cadence-planned experience that shares a day with another (SMS aside) to
    the next free working day; the strategic keep their day first, and what staff planned by hand
    or an invitation never moves."""
    rows = db.session.scalars(
        sa.select(Experience)
        .where(
            Experience.customer_id == customer.id,
            Experience.status == ExperienceStatus.PLANNED,
            Experience.due_on >= today,
            Experience.category != Touchpoint.ROUTINE,
        )
        # Read afresh: the set-based planning above changed rows the session may hold.
        .execution_options(populate_existing=True)
    ).all()
    marks = {
        r.category: r.priority for r in matrix.planned_rules() if r.quadrant == customer.quadrant
    }
    movable = [e for e in rows if e.origin == PlanOrigin.CADENCE]
    taken = {e.due_on for e in rows if e.origin != PlanOrigin.CADENCE}
    for experience in sorted(
        movable, key=lambda e: (e.due_on, marks.get(e.category, 9), e.category.value)
    ):
        day = experience.due_on
        while day in taken or calendar.is_holiday(day):  # nor onto a public holiday
            day += timedelta(days=1)
        if day != experience.due_on:
            experience.due_on = day
        taken.add(day)
    db.session.flush()
