"""The rolling planner: cadence minimums, the matrix's marks, budgets, idempotence."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import Experience
from crm.models.base import utcnow
from crm.models.enums import (
    PLANNED_MARKS,
    ExperienceStatus,
    MoveCause,
    PlanOrigin,
    Quadrant,
    Touchpoint,
)
from crm.services.customers import tiering
from crm.services.occasions import calendar
from crm.services.planning import matrix, planner
from tests.support.factories import make_customer

TODAY = date(2026, 11, 23)  # a Monday

# (liquid assets, willingness) that land in each quadrant under the default thresholds
PLACES = {
    Quadrant.DEVELOP: (Decimal("50000"), 30),
    Quadrant.MAINTAIN: (Decimal("50000"), 70),
    Quadrant.CULTIVATE: (Decimal("2000000"), 30),
    Quadrant.PAMPER: (Decimal("2000000"), 90),
}


def customer_in(owner, quadrant: Quadrant, n: int = 0, consent: bool = True):
    assets, willingness = PLACES[quadrant]
    customer = make_customer(
        owner,
        f"{quadrant.value}{n}",
        f"+86137{list(Quadrant).index(quadrant)}{n:07d}",
        liquid_assets=assets,
        willingness=willingness,
        sms_consent=consent,
        sms_consent_at=utcnow() if consent else None,
    )
    tiering.place(customer, MoveCause.IMPORT, None, first=True)
    db.session.flush()
    return customer


def planned(customer, category=None) -> list[Experience]:
    query = sa.select(Experience).where(
        Experience.customer_id == customer.id, Experience.status == ExperienceStatus.PLANNED
    )
    if category is not None:
        query = query.where(Experience.category == category)
    return list(db.session.scalars(query.order_by(Experience.due_on)))


def test_planning_twice_plans_nothing_twice(world):
    customers = [customer_in(world.alice, q, i) for i, q in enumerate(Quadrant)]
    db.session.commit()

    first = planner.plan_contacts(TODAY + timedelta(days=28), today=TODAY)
    assert first.planned > 0
    rows = db.session.scalar(sa.select(sa.func.count()).select_from(Experience))
    assert rows == first.planned

    second = planner.plan_contacts(TODAY + timedelta(days=28), today=TODAY)
    assert (second.planned, second.cancelled) == (0, 0)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Experience)) == rows
    # …and a later run only adds what the extra days need.
    third = planner.plan_contacts(TODAY + timedelta(days=32), today=TODAY)
    assert 0 < third.planned <= 2 * len(customers) + 4
    slots = db.session.execute(
        sa.select(Experience.customer_id, Experience.category, Experience.due_on)
    ).all()
    assert len(slots) == len(set(slots))


def test_sms_cadence_holds_over_a_simulated_month_of_daily_runs(world):
    customers = [customer_in(world.alice, q, i) for i, q in enumerate(Quadrant)]
    db.session.commit()
    # The scheduler runs the planner every day; a planned SMS is sent on its day.
    for offset in range(62):
        day = TODAY + timedelta(days=offset)
        planner.plan_contacts(day + timedelta(days=28), today=day)
        db.session.execute(
            sa.update(Experience)
            .where(Experience.due_on == day, Experience.category == Touchpoint.ROUTINE)
            .values(status=ExperienceStatus.DONE, held_on=day)
        )
        db.session.commit()
    for customer in customers:
        sent = sorted(
            db.session.scalars(
                sa.select(Experience.held_on).where(
                    Experience.customer_id == customer.id,
                    Experience.category == Touchpoint.ROUTINE,
                    Experience.status == ExperienceStatus.DONE,
                )
            )
        )
        # Seed 004: 1–2 a week, at least 6 a month.
        for start in range(62 - 6):
            week = [d for d in sent if 0 <= (d - TODAY).days - start < 7]
            assert 1 <= len(week) <= 2, (customer.quadrant, start, week)
        december = [d for d in sent if d.month == 12]
        assert len(december) >= 6, (customer.quadrant, december)


def test_only_the_matrix_planned_marks_are_planned_and_never_never(world):
    customers = [customer_in(world.alice, q, i) for i, q in enumerate(Quadrant)]
    db.session.commit()
    planner.plan_contacts(TODAY + timedelta(days=366), today=TODAY)

    rules = matrix.rules()
    for customer in customers:
        got = {e.category for e in planned(customer)}
        wanted = {
            category
            for (quadrant, category), rule in rules.items()
            if quadrant == customer.quadrant and rule.mark in PLANNED_MARKS
        }
        assert got == wanted, customer.quadrant
    pamper = customers[3]
    assert planned(pamper, Touchpoint.EVENT) == []  # × in seed 004


def test_no_sms_planned_without_consent(world):
    silent = customer_in(world.alice, Quadrant.MAINTAIN, 1, consent=False)
    db.session.commit()
    planner.plan_contacts(TODAY + timedelta(days=28), today=TODAY)
    assert planned(silent, Touchpoint.ROUTINE) == []
    assert planned(silent, Touchpoint.VISIT)  # the visits still are


def before_a_holiday(day: date) -> bool:
    return calendar.is_working_day(day) and calendar.is_holiday(day + timedelta(days=1))


def test_first_visits_are_spread_and_the_cadence_follows_the_rule(world):
    customers = [customer_in(world.alice, Quadrant.MAINTAIN, i) for i in range(6)]
    db.session.commit()
    planner.plan_contacts(TODAY + timedelta(days=200), today=TODAY)
    interval = matrix.rule_for(Quadrant.MAINTAIN, Touchpoint.VISIT).interval_days
    firsts = set()
    for customer in customers:
        visits = [e.due_on for e in planned(customer, Touchpoint.VISIT)]
        firsts.add(visits[0])
        assert TODAY <= visits[0] < TODAY + timedelta(days=interval)
        # On cadence, but for a visit moved off a public holiday to the working day before.
        for a, b in zip(visits, visits[1:], strict=False):
            assert (b - a).days == interval or before_a_holiday(a) or before_a_holiday(b)
        assert any((b - a).days == interval for a, b in zip(visits, visits[1:], strict=False))
    assert len(firsts) > 1


def test_strategic_experiences_take_the_budget_first_and_planning_stops_at_the_limit(
    world, app, settings
):
    customer = customer_in(world.alice, Quadrant.MAINTAIN)
    db.session.commit()
    planner.plan_contacts(TODAY + timedelta(days=28), today=TODAY)
    strategic = [e for e in planned(customer) if e.category != Touchpoint.ROUTINE]
    sms = planned(customer, Touchpoint.ROUTINE)
    assert strategic and len(sms) >= 7
    reserved = sum(e.planned_cost for e in strategic)
    db.session.execute(sa.delete(Experience))
    db.session.commit()

    # Room for the strategic visit and event and three SMS at ¥0.10, not a fourth.
    limit = reserved + Decimal("0.30")
    settings(CRM_COST_LIMITS={**app.config["CRM_COST_LIMITS"], "maintain": str(limit)})
    planner.plan_contacts(TODAY + timedelta(days=28), today=TODAY)
    got = planned(customer)
    assert sorted((e.category, e.due_on) for e in got if e.category != Touchpoint.ROUTINE) == (
        sorted((e.category, e.due_on) for e in strategic)
    )
    assert [e.due_on for e in got if e.category == Touchpoint.ROUTINE] == [
        e.due_on for e in sms[:3]
    ]
    assert sum(e.planned_cost for e in got) == limit


def test_existing_spending_counts_against_the_limit(world, app):
    customer = customer_in(world.alice, Quadrant.DEVELOP)
    db.session.add(
        Experience(
            customer=customer,
            category=Touchpoint.VISIT,
            status=ExperienceStatus.DONE,
            origin=PlanOrigin.STAFF,
            due_on=TODAY - timedelta(days=10),
            held_on=TODAY - timedelta(days=10),
            planned_cost=Decimal("80.00"),
            actual_cost=Decimal("299.95"),
        )
    )
    db.session.commit()
    planner.plan_contacts(TODAY + timedelta(days=28), today=TODAY)
    # ¥0.05 left of ¥300: not even one SMS at ¥0.10.
    assert planned(customer) == []


def test_a_move_cancels_what_the_new_quadrant_does_not_plan(world):
    customer = customer_in(world.alice, Quadrant.MAINTAIN)
    db.session.commit()
    planner.plan_contacts(TODAY + timedelta(days=120), today=TODAY)
    assert planned(customer, Touchpoint.EVENT)  # ☆ for maintain

    customer.willingness = 20
    tiering.place(customer, MoveCause.REASSESSMENT, world.alice)
    db.session.commit()
    summary = planner.plan_contacts(
        TODAY + timedelta(days=120), today=TODAY, scope=customer.__class__.id == customer.id
    )
    assert customer.quadrant == Quadrant.DEVELOP
    assert summary.cancelled >= 1
    assert planned(customer, Touchpoint.EVENT) == []  # ◎ for develop: staff choose it
    assert planned(customer, Touchpoint.ROUTINE)


@pytest.mark.parametrize("chunk", [1, 3])
def test_chunks_plan_the_same_as_one_pass(world, chunk):
    for i, q in enumerate(Quadrant):
        customer_in(world.alice, q, i)
    db.session.commit()

    def plan(chunk_size):
        planner.plan_contacts(TODAY + timedelta(days=60), today=TODAY, chunk=chunk_size)
        rows = Counter(
            db.session.execute(
                sa.select(Experience.customer_id, Experience.category, Experience.due_on)
            ).all()
        )
        db.session.execute(sa.delete(Experience))
        db.session.commit()
        return rows

    one_pass = plan(100_000)
    assert len(one_pass) > 4 * 15
    assert plan(chunk) == one_pass


def test_a_reassessment_that_moves_the_customer_refits_the_plan_at_once(world):
    from crm.core.clock import local_today
    from crm.services.customers import willingness

    customer = customer_in(world.alice, Quadrant.MAINTAIN)
    db.session.commit()
    today = local_today()
    planner.plan_contacts(planner.horizon(today) + timedelta(days=90), today=today)
    assert planned(customer, Touchpoint.EVENT)

    willingness.reassess_willingness(world.alice, customer, 25, "投诉后关系疏远", customer.version)
    db.session.commit()
    assert customer.quadrant == Quadrant.DEVELOP
    assert planned(customer, Touchpoint.EVENT) == []
    cancelled = db.session.scalars(
        sa.select(Experience).where(
            Experience.customer_id == customer.id,
            Experience.category == Touchpoint.EVENT,
            Experience.status == ExperienceStatus.CANCELLED,
        )
    ).all()
    assert cancelled


@pytest.mark.backends("postgresql")
def test_a_first_plan_leaves_postgresql_counting_the_experiences_it_planned(world):
    # The occasions' statements that follow read the experiences; planned against a table
    # PostgreSQL still counts as empty they search it whole for each customer.
    for i, quadrant in enumerate(Quadrant):
        customer_in(world.alice, quadrant, i)
    db.session.commit()
    counted = sa.text("SELECT reltuples FROM pg_class WHERE oid = 'experience'::regclass")
    db.session.execute(sa.text("ANALYZE experience"))
    assert db.session.scalar(counted) <= 0

    summary = planner.plan_contacts(TODAY + timedelta(days=28), today=TODAY)

    assert summary.planned > 0
    assert db.session.scalar(counted) == summary.planned
