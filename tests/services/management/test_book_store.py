"""The dashboard's stored months (``dashboard_month``) against the live computation from every
event: after a rebuild, for periods that a stored month's edges do and do not match; a late
event in a closed month and a customer moved to another branch, read right at once and
stored by the next run. Both backends."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from crm.core.clock import business_zone
from crm.extensions import db
from crm.models import DashboardMonth, QuadrantEvent
from crm.models.enums import MoveCause, Quadrant
from crm.services.management import book_store, dashboard, handover
from crm.services.management.period import Period, day_begins
from tests.support.factories import make_customer

D, M, C, P = Quadrant.DEVELOP, Quadrant.MAINTAIN, Quadrant.CULTIVATE, Quadrant.PAMPER
# The nightly run under test stores everything dated before the start of this day.
UNTIL_DAY = date(2026, 7, 10)
PERIODS = [
    Period(date(2026, 1, 1), date(2026, 8, 31)),
    Period(date(2026, 2, 14), date(2026, 7, 20)),  # cut inside stored months at both ends
    Period(date(2026, 3, 1), date(2026, 5, 31)),  # closed months only
    Period(date(2026, 7, 1), date(2026, 7, 31)),  # the month the run stopped inside
]


def _until() -> datetime:
    return day_begins(UNTIL_DAY, business_zone())


def _at(day: date, hour: int = 10) -> datetime:
    return day_begins(day, business_zone()) + timedelta(hours=hour)


def _event(customer, source, target, when: datetime, assets: str) -> None:
    db.session.add(
        QuadrantEvent(
            customer=customer,
            from_quadrant=source,
            to_quadrant=target,
            liquid_assets=Decimal(assets),
            willingness=50,
            capability_threshold=Decimal("500000.00"),
            willingness_threshold=60,
            cause=MoveCause.REASSESSMENT if source else MoveCause.IMPORT,
            at=when,
        )
    )


@pytest.fixture
def history(world):
    """Twelve customers in two branches moving between quadrants from December to August."""
    customers = []
    for i in range(12):
        owner = (world.alice, world.bob, world.carol)[i % 3]
        customers.append(make_customer(owner, f"客户{i}", f"+861380000{i:04d}"))
    db.session.flush()
    path = [D, M, C, P]
    for i, customer in enumerate(customers):
        first = date(2025, 12, 1) + timedelta(days=9 * i)
        _event(customer, None, path[i % 4], _at(first), f"{100000 + 1000 * i}.50")
        for k in range(1 + i % 4):
            day = first + timedelta(days=23 * (k + 1) + i)
            _event(
                customer,
                path[(i + k) % 4],
                path[(i + k + 1) % 4],
                _at(day, 8 + k),
                f"{2000 * k + i}.25",
            )
    db.session.commit()
    return customers


def _scopes(world):
    return [dashboard.Scope(world.east.id), dashboard.Scope(world.west.id), dashboard.Scope(None)]


def _agrees(world) -> None:
    for scope in _scopes(world):
        for period in PERIODS:
            assert dashboard.book_by_month(scope, period) == dashboard.live_book(scope, period), (
                scope,
                period,
            )


def test_a_rebuild_stores_the_months_and_reads_equal_the_live_figures(world, history):
    summary = book_store.rebuild(_until())
    db.session.commit()
    stored = db.session.scalars(sa.select(DashboardMonth.month).distinct()).all()
    assert min(stored) == date(2025, 12, 1) and max(stored) <= date(2026, 7, 1)
    assert summary.rows == db.session.scalar(sa.select(sa.func.count(DashboardMonth.id)))
    # What the east branch's stored months hold is what its events say, event for event.
    east_events = db.session.scalar(
        sa.select(sa.func.sum(DashboardMonth.events)).where(
            DashboardMonth.branch_id == world.east.id
        )
    )
    assert east_events == sum(
        1
        for e in db.session.scalars(sa.select(QuadrantEvent))
        if e.customer.branch_id == world.east.id and e.at < _until()
    )
    _agrees(world)
    # Closed months are read from the table: only the time since the run is read live.
    bounds = dashboard._bounds(PERIODS[2])
    groups, windows = book_store.stored_groups(
        dashboard.Scope(world.east.id).clause(), world.east.id, bounds
    )
    assert groups and windows == []
    book = dashboard.book_by_month(dashboard.Scope(None), PERIODS[0])
    assert book[-1].total == len(history)


def test_a_late_event_in_a_closed_month_is_read_at_once_and_stored_by_the_next_run(world, history):
    book_store.rebuild(_until())
    db.session.commit()
    april = Period(date(2026, 4, 1), date(2026, 4, 30))
    east = dashboard.Scope(world.east.id)
    before = dashboard.book_by_month(east, april)[0]
    # A customer whose placement in April is recorded only now (an import, say).
    newcomer = make_customer(world.alice, "迟到客户", "+8613811112222")
    db.session.flush()
    _event(newcomer, None, P, _at(date(2026, 4, 15)), "900000.00")
    db.session.commit()

    after = dashboard.book_by_month(east, april)[0]
    assert after == dashboard.live_book(east, april)[0]
    assert after.customers[P] == before.customers[P] + 1
    assert after.assets[P] == before.assets[P] + Decimal("900000.00")

    summary = book_store.refresh(_until())
    db.session.commit()
    assert summary.recomputed[date(2026, 4, 1)] == {world.east.id}
    assert date(2026, 4, 1) not in book_store.refresh(_until()).recomputed
    db.session.commit()
    groups, windows = book_store.stored_groups(
        east.clause(), world.east.id, dashboard._bounds(april)
    )
    assert groups and windows == []  # stored again, nothing read live
    _agrees(world)


def test_customers_moved_to_another_branch_count_there_at_once_and_after_the_next_run(
    world, history
):
    book_store.rebuild(_until())
    db.session.commit()
    west_before = dashboard.book_by_month(dashboard.Scope(world.west.id), PERIODS[2])
    alice_customers = [c for c in history if c.owner_id == world.alice.id]
    result = handover.hand_over(world.admin, world.alice, world.carol)
    db.session.commit()
    assert result.customers == len(alice_customers) + 1  # and the world's own, never placed

    west_after = dashboard.book_by_month(dashboard.Scope(world.west.id), PERIODS[2])
    assert west_after[-1].total == west_before[-1].total + len(alice_customers)
    _agrees(world)
    summary = book_store.refresh(_until())
    db.session.commit()
    assert summary.recomputed[date.min] == {world.east.id, world.west.id}
    _agrees(world)
