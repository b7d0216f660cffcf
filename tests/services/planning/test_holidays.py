"""A visit the cadence plans on a public holiday moves to the working day before."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from crm.extensions import db
from crm.models import Experience
from crm.models.enums import ExperienceStatus, PlanOrigin, Quadrant, Touchpoint
from crm.services.planning import planner
from tests.services.planning.test_planner import customer_in

TODAY = date(2026, 9, 21)  # a Monday; National Day's holiday runs 1–7 October 2026


def plan(customer, category, due_on, origin=PlanOrigin.CADENCE) -> Experience:
    experience = Experience(
        customer=customer,
        category=category,
        status=ExperienceStatus.PLANNED,
        origin=origin,
        due_on=due_on,
        planned_cost=Decimal("80.00"),
    )
    db.session.add(experience)
    return experience


def test_a_visit_due_on_national_day_moves_to_the_working_day_before(world):
    customer = customer_in(world.alice, Quadrant.CULTIVATE)
    visit = plan(customer, Touchpoint.VISIT, date(2026, 10, 5))
    by_hand = plan(customer, Touchpoint.LIFESTYLE, date(2026, 10, 2), PlanOrigin.STAFF)
    sms = plan(customer, Touchpoint.ROUTINE, date(2026, 10, 3))
    mid_autumn = plan(customer, Touchpoint.PREMIUM_EVENT, date(2026, 9, 27))
    ordinary_weekend = plan(customer, Touchpoint.EVENT, date(2026, 10, 11))
    db.session.commit()

    planner.plan_contacts(TODAY + timedelta(days=28), today=TODAY)
    db.session.expire_all()

    # 30 September is the last working day before the holiday.
    assert db.session.get(Experience, visit.id).due_on == date(2026, 9, 30)
    assert db.session.get(Experience, by_hand.id).due_on == date(2026, 10, 2)
    assert db.session.get(Experience, sms.id).due_on == date(2026, 10, 3)
    # Mid-Autumn's holiday runs Friday 25 to Sunday 27 September: back to Thursday 24.
    assert db.session.get(Experience, mid_autumn.id).due_on == date(2026, 9, 24)
    assert db.session.get(Experience, ordinary_weekend.id).due_on == date(2026, 10, 11)
    # Nothing the cadence planned is left on a day of the holiday.
    left = db.session.scalars(
        sa.select(Experience.due_on).where(
            Experience.origin == PlanOrigin.CADENCE,
            Experience.category != Touchpoint.ROUTINE,
            Experience.status == ExperienceStatus.PLANNED,
            Experience.due_on.between(date(2026, 10, 1), date(2026, 10, 7)),
        )
    ).all()
    assert left == []


def test_a_holiday_at_the_start_of_the_horizon_leaves_the_visit_where_it_is(world):
    # Planning on the holiday itself: the working day before is past.
    customer = customer_in(world.alice, Quadrant.CULTIVATE)
    visit = plan(customer, Touchpoint.VISIT, date(2026, 10, 2))
    db.session.commit()
    planner.plan_contacts(date(2026, 10, 20), today=date(2026, 10, 1))
    db.session.expire_all()
    assert db.session.get(Experience, visit.id).due_on == date(2026, 10, 2)
