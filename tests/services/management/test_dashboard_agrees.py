"""One computation, two faces: the dashboard's SQL figures against the notebooks' functions
(analytics.quadrants, analytics.budget, analytics.followup) on one simulated history, for the
whole bank and for one branch. Both backends."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
import sqlalchemy as sa

from analytics import budget as budget_frames
from analytics import followup, load, quadrants
from crm.core.clock import business_zone
from crm.extensions import db
from crm.models import Branch, DashboardMonth
from crm.models.enums import Quadrant
from crm.services.followup import complaints as complaint_rules
from crm.services.management import book_store, dashboard
from crm.services.management.period import Period, day_begins


@pytest.fixture
def simulated_app(simulated):
    app = simulated.app()
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def _frames(app, branch: str | None):
    source = load.Source(app, db.engine)
    customers = load.customers(source)
    events = load.quadrant_events(source)
    callbacks, complaints = load.callbacks(source), load.complaints(source)
    usage = load.budget_usage(source)
    if branch is not None:
        mine = set(customers.loc[customers["branch"] == branch, "customer"])
        events = events.loc[events["customer"].isin(mine)]
        callbacks = callbacks.loc[callbacks["branch"] == branch]
        complaints = complaints.loc[complaints["branch"] == branch]
        usage = usage.loc[usage["customer"].isin(mine)]
    return source, events, callbacks, complaints, usage


@pytest.mark.parametrize("stored", [False, True], ids=["live", "stored"])
@pytest.mark.parametrize("whole_bank", [True, False], ids=["bank", "branch"])
def test_the_dashboard_agrees_with_the_notebooks(simulated_app, simulated, whole_bank, stored):
    branch = db.session.scalars(sa.select(Branch).order_by(Branch.id)).first()
    scope = dashboard.Scope(None if whole_bank else branch.id)
    period = Period(simulated.start, simulated.end)
    if stored:
        # The nightly job's months up to a day inside the period (never committed: the
        # simulated bank is shared); the rest is read live.
        until = simulated.end - timedelta(days=40)
        book_store.rebuild(day_begins(until, business_zone()))
        assert db.session.scalar(sa.select(sa.func.count(DashboardMonth.id)))
    board = dashboard.board(scope, period)
    source, events, callbacks, complaints, usage = _frames(
        simulated_app, None if whole_bank else branch.name
    )
    assert len(board.book) == len(period.months) >= 2
    assert len(events) > 20 and board.book[-1].total > 10

    for month in board.book:
        counts = quadrants.quadrant_as_of(events, month.month.last).value_counts()
        assert {q.value: n for q, n in month.customers.items()} == {
            q: int(counts.get(q, 0)) for q in quadrants.QUADRANTS
        }
        assets = quadrants.assets_as_of(events, month.month.last)
        for q, amount in month.assets.items():
            assert float(amount) == pytest.approx(assets[q.value], abs=0.01)

    # The notebooks' moves are those after one as-of day up to another: the period's moves
    # begin after the day before it.
    moved = quadrants.moves(events, period.start - timedelta(days=1), period.end)
    expected = pd.crosstab(moved["from_quadrant"], moved["to_quadrant"])
    assert sum(sum(row.values()) for row in board.moves.values()) == len(moved) > 0
    for source_q, row in board.moves.items():
        for target_q, count in row.items():
            found = expected.get(target_q.value, pd.Series(dtype=int)).get(source_q.value, 0)
            assert count == found, (source_q, target_q)

    table = budget_frames.budget_use(usage)
    for line in board.budget:
        assert line.customers == table.loc[line.quadrant.value, "customers"]
        assert float(line.used) == pytest.approx(table.loc[line.quadrant.value, "used"], abs=0.01)
        assert float(line.limit) == source.cost_limits()[line.quadrant.value]
    assert sum(line.used for line in board.budget) > 0

    for month, outcome in board.followup:
        frame = followup.outcomes(callbacks, complaints, month.first, month.last)
        row = frame.iloc[0] if len(frame) else None
        for name in ("maturities", "called", "participating", "converted_to_policy"):
            assert getattr(outcome, name) == (0 if row is None else row[name]), name
        for name in ("complaints_answered", "complaints_satisfied"):
            assert getattr(outcome, name) == (0 if row is None else row[name]), name
    assert sum(o.maturities for _m, o in board.followup) > 0

    sla = complaint_rules.sla().days
    for month in board.complaints:
        frame = followup.complaint_sla(complaints, month.month.first, month.month.last, sla)
        row = frame.iloc[0] if len(frame) else None
        assert month.opened == (0 if row is None else row["opened"])
        assert month.on_time == (0 if row is None else row["on_time"])
        assert month.late == (0 if row is None else row["late"])


def test_as_of_figures_count_every_placed_customer_once(simulated_app, simulated):
    board = dashboard.board(dashboard.Scope(None), Period(simulated.start, simulated.end))
    placed = db.session.scalar(sa.text("SELECT count(DISTINCT customer_id) FROM quadrant_event"))
    assert board.book[-1].total == placed
    assert all(n >= 0 for m in board.book for n in m.customers.values())
    assert set(board.book[-1].customers) == set(Quadrant)
