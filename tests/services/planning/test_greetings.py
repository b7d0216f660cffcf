"""Greeting SMS on birthdays, festivals and policy anniversaries, within the weekly cap."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from crm.extensions import db
from crm.models import Experience, Policy
from crm.models.enums import (
    ExperienceStatus,
    PaymentMode,
    PolicyStatus,
    ProductType,
    Quadrant,
    Touchpoint,
)
from crm.services.occasions import birthdays
from crm.services.planning import planner
from tests.services.planning.test_planner import customer_in

SEPTEMBER = date(2026, 9, 14)  # a Monday; Mid-Autumn is Friday 25 September


def sms(customer) -> list[Experience]:
    return list(
        db.session.scalars(
            sa.select(Experience)
            .where(
                Experience.customer_id == customer.id,
                Experience.category == Touchpoint.ROUTINE,
                Experience.status == ExperienceStatus.PLANNED,
            )
            .order_by(Experience.due_on)
        )
    )


def greetings(customer) -> dict[date, str]:
    return {e.due_on: e.occasion for e in sms(customer) if e.occasion}


def per_week(rows: list[Experience]) -> Counter:
    return Counter(e.due_on - timedelta(days=e.due_on.weekday()) for e in rows)


def test_a_birthday_greeting_takes_a_routine_sms_place_within_the_weekly_cap(world):
    customer = customer_in(world.alice, Quadrant.MAINTAIN)
    db.session.commit()
    until = SEPTEMBER + timedelta(days=27)
    planner.plan_contacts(until, today=SEPTEMBER)
    # A week with two routine SMS already: the birthday falls on a day between them.
    weeks = per_week(sms(customer))
    full = min(week for week, n in weeks.items() if n == 2 and week >= SEPTEMBER)
    taken = {e.due_on for e in sms(customer)}
    birthday = next(
        full + timedelta(days=k)
        for k in range(7)
        if full + timedelta(days=k) not in taken and full + timedelta(days=k) != date(2026, 9, 25)
    )
    customer.birth_date = birthday.replace(year=1975)
    db.session.commit()

    summary = planner.plan_contacts(until, today=SEPTEMBER)

    assert greetings(customer)[birthday] == "birthday"
    week = [e for e in sms(customer) if full <= e.due_on < full + timedelta(days=7)]
    assert len(week) == 2 and birthday in {e.due_on for e in week}
    assert summary.cancelled >= 1
    assert max(per_week(sms(customer)).values()) <= 2
    # Planning again changes nothing.
    again = planner.plan_contacts(until, today=SEPTEMBER)
    assert (again.planned, again.cancelled) == (0, 0)


def test_a_festival_greeting_on_mid_autumn_and_none_without_consent(world):
    agreed = customer_in(world.alice, Quadrant.PAMPER, 1)
    refused = customer_in(world.alice, Quadrant.PAMPER, 2, consent=False)
    db.session.commit()

    planner.plan_contacts(SEPTEMBER + timedelta(days=27), today=SEPTEMBER)

    assert greetings(agreed)[date(2026, 9, 25)] == "mid_autumn"
    assert greetings(agreed)[date(2026, 10, 1)] == "national_day"
    assert greetings(refused) == {}
    # Double Ninth is for older customers: this one's birth date is not known.
    assert date(2026, 10, 18) not in greetings(agreed)


def test_a_lunar_birthday_is_greeted_on_its_lunar_day_in_each_year(world):
    customer = customer_in(world.alice, Quadrant.DEVELOP)
    customer.birth_date = date(1970, 4, 20)  # 农历三月十五
    _, lunar = birthdays.lunar_of(customer.birth_date)
    customer.birthday_is_lunar = True
    customer.lunar_birth_month, customer.lunar_birth_day = lunar.month, lunar.day
    customer.lunar_birth_leap = lunar.leap
    db.session.commit()
    expected = [birthdays.lunar_birthday_in(year, lunar) for year in (2026, 2027)]
    assert expected == [date(2026, 5, 1), date(2027, 4, 21)]

    for day in expected:
        today = day - timedelta(days=10)
        planner.plan_contacts(day + timedelta(days=3), today=today)
        assert greetings(customer).get(day) == "birthday"
    kept = {day for day, occasion in greetings(customer).items() if occasion == "birthday"}
    assert kept == set(expected)


def test_a_policy_anniversary_is_greeted_and_a_lapsed_policy_is_not(world):
    customer = customer_in(world.alice, Quadrant.CULTIVATE)
    db.session.add(
        Policy(
            customer=customer,
            policy_number="P-ANNIV-1",
            product_name="鑫享年金",
            product_type=ProductType.ANNUITY,
            premium=Decimal("100000"),
            payment_mode=PaymentMode.REGULAR,
            start_date=date(2021, 9, 22),
        )
    )
    db.session.add(
        Policy(
            customer=customer,
            policy_number="P-ANNIV-2",
            product_name="鑫享年金",
            product_type=ProductType.ANNUITY,
            premium=Decimal("100000"),
            payment_mode=PaymentMode.SINGLE,
            start_date=date(2020, 9, 23),
            status=PolicyStatus.SURRENDERED,
        )
    )
    db.session.commit()

    planner.plan_contacts(SEPTEMBER + timedelta(days=27), today=SEPTEMBER)

    assert greetings(customer)[date(2026, 9, 22)] == "policy_anniversary"
    assert greetings(customer).get(date(2026, 9, 23)) is None
