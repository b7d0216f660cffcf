"""The occasions calendar (节日与生日日历): a staff member's customers' occasions ahead.

Each customer's birthday (solar or lunar) and policy anniversaries in the next days, one line
each, and each festival once with how many of the customers are greeted; beside every line,
what is planned for the customer around the day (the greeting SMS, a visit, an experience).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa

from crm.extensions import db
from crm.models import Customer, Experience, Policy, Staff
from crm.models.enums import ExperienceStatus, PolicyStatus, RelationshipStatus, Touchpoint
from crm.services.occasions import birthdays, calendar

DAYS_AHEAD = 30
# What is planned "around" an occasion: from this many days before to as many after.
AROUND = timedelta(days=3)
# A birthday experience (crm.services.planning.birthday_experiences) comes up to a week before.
BIRTHDAY_LEAD = timedelta(days=7)


@dataclass
class Occasion:
    day: date
    kind: str  # "birthday", "lunar_birthday", "policy_anniversary" or a festival's key
    customer: Customer | None = None  # None for a festival
    years: int | None = None  # the age reached, or the policy's years in force
    planned: list[Experience] = field(default_factory=list)
    greeted: int = 0  # for a festival: how many customers' greetings are planned


def _customers(staff: Staff) -> list[Customer]:
    return list(
        db.session.scalars(
            sa.select(Customer)
            .where(
                Customer.owner_id == staff.id,
                Customer.relationship_status != RelationshipStatus.LOST,
            )
            .order_by(Customer.id)
        )
    )


def _birthdays(customers: list[Customer], first: date, last: date) -> list[Occasion]:
    found = []
    for customer in customers:
        lunar = None
        if customer.birthday_is_lunar and customer.lunar_birth_month and customer.lunar_birth_day:
            lunar = birthdays.LunarDay(
                customer.lunar_birth_month,
                customer.lunar_birth_day,
                bool(customer.lunar_birth_leap),
            )
        for day in birthdays.birthdays_between(customer.birth_date, lunar, first, last):
            age = day.year - customer.birth_date.year if customer.birth_date else None
            kind = "lunar_birthday" if lunar else "birthday"
            found.append(Occasion(day, kind, customer, age))
    return found


def _anniversaries(staff: Staff, first: date, last: date) -> list[Occasion]:
    rows = db.session.execute(
        sa.select(Policy.start_date, Customer)
        .join(Customer, Customer.id == Policy.customer_id)
        .where(
            Customer.owner_id == staff.id,
            Customer.relationship_status != RelationshipStatus.LOST,
            Policy.status == PolicyStatus.IN_FORCE,
        )
    ).all()
    found = {}
    for start, customer in rows:
        for day in birthdays.birthdays_between(start, None, first, last):
            found.setdefault((customer.id, day), Occasion(day, "policy_anniversary", customer))
            found[(customer.id, day)].years = day.year - start.year
    return list(found.values())


def _planned_around(customer_ids: set[int], first: date, last: date) -> dict:
    if not customer_ids:
        return {}
    rows = db.session.scalars(
        sa.select(Experience)
        .where(
            Experience.customer_id.in_(customer_ids),
            Experience.status == ExperienceStatus.PLANNED,
            Experience.due_on.between(first - BIRTHDAY_LEAD, last + AROUND),
        )
        .order_by(Experience.due_on, Experience.id)
    )
    planned = defaultdict(list)
    for experience in rows:
        planned[experience.customer_id].append(experience)
    return planned


def _greeted(staff: Staff, festivals: list[tuple[date, str]]) -> dict[date, int]:
    if not festivals:
        return {}
    rows = db.session.execute(
        sa.select(Experience.due_on, sa.func.count())
        .join(Customer, Customer.id == Experience.customer_id)
        .where(
            Customer.owner_id == staff.id,
            Experience.status == ExperienceStatus.PLANNED,
            sa.tuple_(Experience.due_on, Experience.occasion).in_(festivals),
        )
        .group_by(Experience.due_on)
    )
    return dict(rows.all())


def _birthday_experience(experience: Experience, occasion: Occasion) -> bool:
    return (
        occasion.kind in ("birthday", "lunar_birthday")
        and experience.occasion == "birthday"
        and experience.category != Touchpoint.ROUTINE
        and timedelta(0) <= occasion.day - experience.due_on <= BIRTHDAY_LEAD
    )


def upcoming(staff: Staff, today: date, days: int = DAYS_AHEAD) -> list[Occasion]:
    """``staff``'s customers' occasions from ``today`` for ``days`` days, in date order
    (festivals first on their day, then by customer)."""
    last = today + timedelta(days=days - 1)
    personal = _birthdays(_customers(staff), today, last) + _anniversaries(staff, today, last)
    planned = _planned_around({o.customer.id for o in personal}, today, last)
    for occasion in personal:
        occasion.planned = [
            e
            for e in planned.get(occasion.customer.id, [])
            if abs(e.due_on - occasion.day) <= AROUND or _birthday_experience(e, occasion)
        ]
    festivals = [(day, f.value) for day, f in calendar.festivals_between(today, last)]
    greeted = _greeted(staff, festivals)
    found = [Occasion(day, kind, greeted=greeted.get(day, 0)) for day, kind in festivals]
    found += personal
    return sorted(
        found, key=lambda o: (o.day, o.customer is not None, o.customer and o.customer.id)
    )
