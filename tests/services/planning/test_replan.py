"""The re-plan after a recorded experience moves a customer (开发 → 耕耘): the new quadrant's
categories start spread over their first interval, never several on one day, and the next
visit stays in the plan though the cadence puts it beyond the horizon."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import sqlalchemy as sa

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import Experience
from crm.models.enums import ExperienceStatus, MoveCause, Quadrant, Touchpoint
from crm.services.customers import tiering
from crm.services.experiences import recording
from crm.services.planning import matrix, planner
from tests.support.factories import make_customer


def plan_of(customer) -> list[Experience]:
    db.session.expire_all()
    return db.session.scalars(
        sa.select(Experience)
        .where(
            Experience.customer_id == customer.id,
            Experience.status == ExperienceStatus.PLANNED,
        )
        .order_by(Experience.due_on)
    ).all()


def test_a_move_by_a_recorded_visit_replans_spread_and_keeps_the_next_visit(world):
    today = local_today()
    customer = world.alice_customer
    customer.sms_consent = True
    customer.willingness = 50
    tiering.place(customer, MoveCause.IMPORT, None, first=True)
    customer.created_at -= timedelta(days=30)
    db.session.commit()
    assert customer.quadrant == Quadrant.DEVELOP
    planner.plan_contacts(planner.horizon(today), today=today)
    (visit,) = [e for e in plan_of(customer) if e.category == Touchpoint.VISIT]

    recorded = recording.record_experience(
        world.alice,
        visit,
        {
            "outcome": "done",
            "held_on": today,
            "response": "neutral",
            "liquid_assets": "1,500,000",
            "willingness": "50",
        },
        visit.version,
        customer.version,
    )
    db.session.commit()
    assert recorded.moved_to == Quadrant.CULTIVATE

    plan = [e for e in plan_of(customer) if e.category != Touchpoint.ROUTINE]
    days = Counter(e.due_on for e in plan)
    assert [day for day, n in days.items() if n > 1] == []  # never two on one day
    categories = {e.category for e in plan}
    assert {Touchpoint.VISIT, Touchpoint.EVENT, Touchpoint.PREMIUM_EVENT} <= categories
    for category in (Touchpoint.EVENT, Touchpoint.PREMIUM_EVENT):  # new to the customer
        first = min(e.due_on for e in plan if e.category == category)
        interval = matrix.rule_for(Quadrant.CULTIVATE, category).interval_days
        assert today <= first <= today + timedelta(days=interval + len(plan)), category
    next_visit = min(e.due_on for e in plan if e.category == Touchpoint.VISIT)
    interval = matrix.rule_for(Quadrant.CULTIVATE, Touchpoint.VISIT).interval_days
    assert next_visit <= visit.due_on + timedelta(days=interval + len(plan))


def test_the_first_plan_of_a_bank_puts_no_customer_two_categories_of_one_cadence_on_a_day(
    world,
):
    """耕耘 plans visits and events every 60 days: their first ones fall on different days."""
    today = local_today()
    customers = []
    for i in range(12):
        customer = make_customer(world.alice, f"客户{i}", f"+86138000020{i:02d}")
        customer.liquid_assets = 1_500_000
        customer.willingness = 50
        tiering.place(customer, MoveCause.IMPORT, None, first=True)
        customers.append(customer)
    db.session.commit()
    planner.plan_contacts(planner.horizon(today) + timedelta(days=60), today=today)
    for customer in customers:
        visits = {e.due_on for e in plan_of(customer) if e.category == Touchpoint.VISIT}
        events = {e.due_on for e in plan_of(customer) if e.category == Touchpoint.EVENT}
        assert visits and events and not visits & events, customer.name
