"""The nightly job ``dashboard_months``: run as the scheduler runs it, it stores the dashboard's
months up to the start of today and logs what it did; the next run picks up an event recorded
late in a closed month. Also ``flask crm dashboard-months``. Both backends."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from crm.core.clock import business_zone, local_today
from crm.extensions import db
from crm.models import DashboardMonth, JobRun, QuadrantEvent
from crm.models.enums import MoveCause, Quadrant
from crm.scheduler import jobs
from crm.services.management import dashboard
from crm.services.management.period import Period, day_begins, months_back
from tests.support.factories import make_customer


@pytest.fixture
def bound(app, monkeypatch):
    monkeypatch.setattr(jobs, "_binding", jobs.Binding(app, "host:1:test", lambda: True))


def _placed(customer, quadrant: Quadrant, day) -> None:
    db.session.add(
        QuadrantEvent(
            customer=customer,
            from_quadrant=None,
            to_quadrant=quadrant,
            liquid_assets=Decimal("300000.00"),
            willingness=50,
            capability_threshold=Decimal("500000.00"),
            willingness_threshold=60,
            cause=MoveCause.IMPORT,
            at=day_begins(day, business_zone()) + timedelta(hours=9),
        )
    )


def _stored_events(branch_id: int, month) -> int:
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(DashboardMonth.events), 0)).where(
            DashboardMonth.branch_id == branch_id, DashboardMonth.month == month
        )
    )


def test_the_nightly_run_stores_the_months_and_the_next_picks_up_a_late_event(world, bound):
    last_month = months_back(local_today(), 1)
    _placed(world.alice_customer, Quadrant.MAINTAIN, last_month + timedelta(days=3))
    _placed(world.carol_customer, Quadrant.PAMPER, last_month + timedelta(days=5))
    db.session.commit()

    jobs.run("dashboard_months")
    (run,) = db.session.scalars(sa.select(JobRun)).all()
    assert (run.job_id, run.ok) == ("dashboard_months", True)
    assert run.summary.startswith("stored up to ") and "every branch" in run.summary
    assert _stored_events(world.east.id, last_month) == 1

    late = make_customer(world.bob, "补录客户", "+8613922223333")
    db.session.flush()
    _placed(late, Quadrant.DEVELOP, last_month + timedelta(days=10))
    db.session.commit()
    jobs.run("dashboard_months")
    second = db.session.scalars(sa.select(JobRun).order_by(JobRun.id.desc())).first()
    assert second.ok and f"branches [{world.east.id}]" in second.summary
    assert _stored_events(world.east.id, last_month) == 2
    assert _stored_events(world.west.id, last_month) == 1

    period = Period(months_back(local_today(), 2), local_today())
    scope = dashboard.Scope(world.east.id)
    book = dashboard.book_by_month(scope, period)
    assert book == dashboard.live_book(scope, period)
    assert book[1].customers[Quadrant.DEVELOP] == 1


def test_the_command_rebuilds_every_month(world, runner, monkeypatch):
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    _placed(world.alice_customer, Quadrant.MAINTAIN, months_back(local_today(), 3))
    db.session.commit()
    result = runner.invoke(args=["crm", "dashboard-months", "--rebuild"])
    assert result.exit_code == 0, result.output
    assert "Dashboard months stored up to " in result.output
    assert "; rows written: 1." in result.output
    assert _stored_events(world.east.id, months_back(local_today(), 3)) == 1
