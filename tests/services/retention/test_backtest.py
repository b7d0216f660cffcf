"""The backtest on a hand-built history whose AUC is known, without peeking past its day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import AuditLog, Experience
from crm.models.enums import (
    ExperienceStatus,
    LostReason,
    PlanOrigin,
    RelationshipStatus,
    Response,
    Touchpoint,
)
from crm.services.retention import backtest
from tests.support.factories import make_customer

AS_OF = date(2026, 6, 1)
OPENED = datetime(2025, 1, 1, tzinfo=UTC)


def liked(customer, day: date, response=Response.POSITIVE) -> None:
    db.session.add(
        Experience(
            customer=customer,
            category=Touchpoint.VISIT,
            status=ExperienceStatus.DONE,
            origin=PlanOrigin.STAFF,
            due_on=day,
            held_on=day,
            planned_cost=Decimal("0.00"),
            response=response,
        )
    )


def customer(world, name: str, phone: str, liked_days_before: int):
    made = make_customer(world.alice, name, phone, created_at=OPENED)
    liked(made, AS_OF - timedelta(days=liked_days_before))
    return made


@pytest.fixture
def book(world):
    """Five customers as of 1 June 2026, scored by silence alone: A 0, E 0, B 14, D 17, C 25
    points. B was marked lost and C's assets were halved within 90 days: of the six pairs
    (one who left, one who stayed), only (B, D) is ranked wrong, so the AUC is 5/6."""
    a = customer(world, "甲", "+8613800000001", 10)
    b = customer(world, "乙", "+8613800000002", 100)
    c = customer(world, "丙", "+8613800000003", 200)
    d = customer(world, "丁", "+8613800000004", 120)
    customer(world, "戊", "+8613800000005", 50)
    b.relationship_status = RelationshipStatus.LOST
    b.lost_reason = LostReason.ASSETS_MOVED
    b.lost_on = AS_OF + timedelta(days=30)
    db.session.flush()
    c.liquid_assets = Decimal("40000.00")
    db.session.add(
        AuditLog(
            at=datetime(2026, 6, 21, tzinfo=UTC),
            entity="customer",
            entity_id=c.id,
            customer_id=c.id,
            action="update",
            field="liquid_assets",
            old_value="100000.00",
            new_value="40000.00",
        )
    )
    # After the day: none of this may count.
    liked(d, AS_OF + timedelta(days=5))
    liked(a, AS_OF + timedelta(days=2), Response.NEGATIVE)
    # Lost before the day, and opened after it: not in the book then.
    gone = customer(world, "己", "+8613800000006", 300)
    gone.relationship_status = RelationshipStatus.LOST
    gone.lost_reason = LostReason.MOVED_AWAY
    gone.lost_on = AS_OF - timedelta(days=10)
    make_customer(world.alice, "庚", "+8613800000007", created_at=datetime(2026, 7, 1, tzinfo=UTC))
    # Willingness that fell after the day does not count either.
    a.willingness = 10
    db.session.add(
        AuditLog(
            at=datetime(2026, 6, 10, tzinfo=UTC),
            entity="customer",
            entity_id=a.id,
            customer_id=a.id,
            action="update",
            field="willingness",
            old_value="40",
            new_value="10",
        )
    )
    db.session.commit()
    return world


def test_the_backtest_reports_the_known_auc_and_the_top_tenth(book):
    result = backtest.run_backtest(AS_OF, 90)
    assert (result.customers, result.churned, result.top) == (5, 2, 1)
    assert result.score.auc == pytest.approx(5 / 6)
    # The top tenth (one customer) is C, who left: precise, and half of those who left.
    assert (result.score.precision_top, result.score.recall_top) == (1.0, 0.5)
    # Recency ranks the same here (each customer's last contact was the one liked).
    assert result.recency.auc == pytest.approx(5 / 6)


def test_a_shorter_horizon_sees_fewer_leave(book):
    result = backtest.run_backtest(AS_OF, 25)  # C's assets were revised on day 20, B lost on 30
    assert result.churned == 1
    assert result.score.auc == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("as_of", "horizon", "field"),
    [
        ("2026-12-01", "90", "as_of"),
        ("someday", "90", "as_of"),
        ("2026-06-01", "0", "horizon_days"),
        ("2026-06-01", "-5", "horizon_days"),
        ("2026-06-01", "ninety", "horizon_days"),
    ],
)
def test_a_future_day_or_a_horizon_not_above_zero_is_refused(app, as_of, horizon, field):
    with pytest.raises(InvalidInput) as refused:
        backtest.read_request(as_of, horizon, today=date(2026, 11, 30))
    assert set(refused.value.errors) == {field}
