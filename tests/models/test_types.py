"""Money stays exact and times stay aware UTC on both databases."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import Customer


def test_money_round_trips_exactly(world):
    amounts = [Decimal("0.01"), Decimal("999999999999.99"), Decimal("1000000.10")]
    for amount in amounts:
        world.alice_customer.liquid_assets = amount
        db.session.commit()
        db.session.expire_all()
        stored = db.session.get(Customer, world.alice_customer.id).liquid_assets
        assert stored == amount and isinstance(stored, Decimal)


def test_money_sums_exactly_in_sql(world):
    # 0.1 + 0.2 is the classic float trap; a sum of cents must not fall in it.
    world.alice_customer.liquid_assets = Decimal("0.10")
    world.bob_customer.liquid_assets = Decimal("0.20")
    world.carol_customer.liquid_assets = Decimal("1000000.00")
    db.session.commit()
    total = db.session.scalar(sa.select(sa.func.sum(Customer.liquid_assets)))
    assert total == Decimal("1000000.30") and isinstance(total, Decimal)
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(Customer.liquid_assets >= Decimal("1000000"))
        )
        == 1
    )


def test_times_come_back_aware_utc(world):
    shanghai = timezone(timedelta(hours=8))
    world.alice_customer.sms_consent_at = datetime(2026, 5, 1, 9, 30, tzinfo=shanghai)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Customer, world.alice_customer.id).sms_consent_at
    assert stored == datetime(2026, 5, 1, 1, 30, tzinfo=UTC)
    assert stored.utcoffset() == timedelta(0)


def test_naive_times_are_refused(world):
    world.alice_customer.sms_consent_at = datetime(2026, 5, 1, 9, 30)
    with pytest.raises(sa.exc.StatementError):
        db.session.commit()
    db.session.rollback()
