"""The birthday experience (生日关怀): a lifestyle experience or a visit on the working day
before a pamper or cultivate customer's birthday, within their budget, once a year."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from crm.extensions import db
from crm.models import Experience
from crm.models.enums import ExperienceStatus, PlanOrigin, Quadrant, Touchpoint
from crm.services.occasions import birthdays, calendar
from crm.services.planning import birthday_experiences, budget, planner
from tests.services.planning.test_planner import TODAY, customer_in

BIRTHDAY = date(2026, 12, 4)  # a Friday, eleven days after TODAY (Monday 23 November)
UNTIL = TODAY + timedelta(days=28)


def born_on(customer, day: date, year: int = 1970):
    customer.birth_date = day.replace(year=year)
    db.session.commit()
    return customer


def birthday_experiences_of(customer) -> list[Experience]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(Experience).where(
                Experience.customer_id == customer.id,
                Experience.occasion == "birthday",
                Experience.category != Touchpoint.ROUTINE,
            )
        )
    )


def test_pamper_get_a_lifestyle_experience_and_cultivate_a_visit_the_working_day_before(world):
    pamper = born_on(customer_in(world.alice, Quadrant.PAMPER, 1), BIRTHDAY)
    cultivate = born_on(customer_in(world.alice, Quadrant.CULTIVATE, 2), BIRTHDAY)
    maintain = born_on(customer_in(world.alice, Quadrant.MAINTAIN, 3), BIRTHDAY)

    planner.plan_contacts(UNTIL, today=TODAY)

    [gift] = birthday_experiences_of(pamper)
    assert (gift.category, gift.due_on, gift.status) == (
        Touchpoint.LIFESTYLE,
        date(2026, 12, 3),
        ExperienceStatus.PLANNED,
    )
    assert gift.planned_cost == Decimal("5000.00") and gift.origin == PlanOrigin.CADENCE
    [visit] = birthday_experiences_of(cultivate)
    assert (visit.category, visit.due_on) == (Touchpoint.VISIT, date(2026, 12, 3))
    assert birthday_experiences_of(maintain) == []
    for customer in (pamper, cultivate):
        assert budget.budget_for(customer, TODAY).remaining >= 0


def test_once_a_year_however_often_the_planner_runs(world):
    pamper = born_on(customer_in(world.alice, Quadrant.PAMPER), BIRTHDAY)
    planner.plan_contacts(UNTIL, today=TODAY)
    planner.plan_contacts(UNTIL, today=TODAY)
    planner.plan_contacts(UNTIL + timedelta(days=3), today=TODAY + timedelta(days=2))
    assert len(birthday_experiences_of(pamper)) == 1


def test_a_lunar_birthday_on_a_holiday_is_kept_the_working_day_before(world):
    # 农历八月十五: Mid-Autumn 2026 falls on Friday 25 September, a public holiday.
    customer = customer_in(world.alice, Quadrant.PAMPER)
    customer.birth_date = birthdays.to_solar(1970, birthdays.LunarDay(8, 15))
    customer.birthday_is_lunar = True
    customer.lunar_birth_month, customer.lunar_birth_day, customer.lunar_birth_leap = 8, 15, False
    db.session.commit()
    today = date(2026, 9, 14)

    planner.plan_contacts(today + timedelta(days=28), today=today)

    [gift] = birthday_experiences_of(customer)
    assert calendar.is_holiday(date(2026, 9, 25))
    assert gift.due_on == date(2026, 9, 24) and not calendar.is_holiday(gift.due_on)


def test_over_budget_the_visit_instead_and_else_nothing_written(world, settings, app):
    pamper = born_on(customer_in(world.alice, Quadrant.PAMPER), BIRTHDAY)
    db.session.commit()
    birthday_experiences.plan_birthday_experiences(TODAY, UNTIL)
    db.session.execute(sa.delete(Experience))

    # Room for a ¥80 visit but not a ¥5,000 lifestyle experience.
    settings(CRM_COST_LIMITS={**app.config["CRM_COST_LIMITS"], "pamper": "4000.00"})
    assert birthday_experiences.plan_birthday_experiences(TODAY, UNTIL) == 1
    [visit] = birthday_experiences_of(pamper)
    assert visit.category == Touchpoint.VISIT
    db.session.execute(sa.delete(Experience))

    settings(CRM_COST_LIMITS={**app.config["CRM_COST_LIMITS"], "pamper": "50.00"})
    assert birthday_experiences.plan_birthday_experiences(TODAY, UNTIL) == 0
    assert birthday_experiences_of(pamper) == []


def test_a_birthday_past_the_horizon_or_already_celebrated_this_year_gets_none(world):
    later = born_on(customer_in(world.alice, Quadrant.PAMPER, 1), UNTIL + timedelta(days=9))
    celebrated = born_on(customer_in(world.alice, Quadrant.PAMPER, 2), BIRTHDAY)
    db.session.add(
        Experience(
            customer=celebrated,
            category=Touchpoint.LIFESTYLE,
            status=ExperienceStatus.DONE,
            origin=PlanOrigin.CADENCE,
            occasion="birthday",
            due_on=BIRTHDAY - timedelta(days=200),  # a lunar birthday kept early last time
            held_on=BIRTHDAY - timedelta(days=200),
            planned_cost=Decimal("5000.00"),
            actual_cost=Decimal("5000.00"),
        )
    )
    db.session.commit()
    assert birthday_experiences.plan_birthday_experiences(TODAY, UNTIL) == 0
    assert birthday_experiences_of(later) == []
