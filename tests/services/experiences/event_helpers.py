"""Shared helpers for the group event tests: form data, counts and past events."""

from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import force_locale

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import AuditLog, Experience, GroupEvent
from crm.models.enums import Touchpoint
from tests.support.factories import make_customer


def data(**overrides):
    values = {
        "category": "event",
        "title": "理财讲座",
        "held_on": local_today() + timedelta(days=14),
        "place": "城东支行二楼会议室",
        "capacity": "10",
        "total_cost": "1000.00",
        "notes": "",
    }
    values.update(overrides)
    return values


def count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def message(error, field: str) -> str:
    """A refusal's message in English, whatever the catalogue says in Chinese."""
    with force_locale("en"):
        return str(error.value.errors[field])


def written():
    db.session.expire_all()
    return count(GroupEvent), count(Experience), count(AuditLog)


def held_event(world, days_ago=1, **fields):
    """An event that has already taken place (the service would refuse to create it)."""
    values = {
        "category": Touchpoint.EVENT,
        "title": "客户联谊会",
        "held_on": local_today() - timedelta(days=days_ago),
        "place": "城东支行",
        "capacity": 10,
        "total_cost": Decimal("1000.00"),
        "branch": world.east,
        "organiser_id": world.manager.id,
    }
    values.update(fields)
    event = GroupEvent(**values)
    db.session.add(event)
    db.session.commit()
    return event


def guests_of(world, n):
    extra = [make_customer(world.alice, f"客户{i}", f"+861370000{i:04d}") for i in range(n - 2)]
    db.session.commit()
    return [world.alice_customer, world.bob_customer, *extra]
