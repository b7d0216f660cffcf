"""Frames from the database: pseudonymised, exact, ordered; and figures that agree with the
app's own (the follow-up page, the budget) on a simulated bank. Both backends."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pandas as pd
import pytest
import sqlalchemy as sa

import analytics
from analytics.load import Source
from crm.extensions import db
from crm.models import Customer, Experience, QuadrantEvent, Staff
from crm.models.enums import ExperienceStatus, MoveCause, PlanOrigin, Quadrant, Touchpoint
from crm.services.customers import tiering
from crm.services.followup import targets
from crm.services.planning import budget
from tests.support.factories import make_customer

PRIVATE = {"name", "phone", "phone_last4", "email", "birth_date", "notes", "point", "remarks"}


def frames(source: Source) -> dict[str, pd.DataFrame]:
    return {
        "customers": analytics.customers(source),
        "quadrant_events": analytics.quadrant_events(source),
        "experiences": analytics.experiences(source),
        "callbacks": analytics.callbacks(source),
        "complaints": analytics.complaints(source),
        "budget_usage": analytics.budget_usage(source),
    }


@pytest.fixture
def simulated_app(simulated):
    app = simulated.app()
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def test_frames_hold_no_names_or_phones_only_a_stable_hashed_id(simulated_app):
    source = Source(simulated_app, db.engine)
    loaded = frames(source)
    people = db.session.execute(sa.select(Customer.id, Customer.name, Customer.phone)).all()
    assert len(people) >= 60 and all(len(f) for f in loaded.values())
    texts = {str(v) for _, name, phone in people for v in (name, phone, phone[-8:])}
    for title, frame in loaded.items():
        assert not PRIVATE & set(frame.columns), title
        assert "customer_id" not in frame.columns, title
        values = {str(v) for column in frame.columns for v in frame[column].dropna().unique()}
        assert not values & texts, title
        assert all(re.fullmatch(r"[0-9a-f]{16}", c) for c in frame["customer"]), title
    # The hashed id is HMAC-SHA256 of the id under the app's secret key: stable across
    # loads, the same in every frame, and another key gives other ids.
    key = simulated_app.config["SECRET_KEY"].encode()
    expected = {
        hmac.new(key, f"customer:{customer_id}".encode(), hashlib.sha256).hexdigest()[:16]
        for customer_id, _, _ in people
    }
    assert set(loaded["customers"]["customer"]) == expected
    assert set(loaded["quadrant_events"]["customer"]) == expected
    assert set(loaded["experiences"]["customer"]) <= expected
    assert analytics.customers(source)["customer"].tolist() == (
        loaded["customers"]["customer"].tolist()
    )
    simulated_app.config["SECRET_KEY"] = "another key"
    try:
        other = set(analytics.customers(Source(simulated_app, db.engine))["customer"])
    finally:
        simulated_app.config["SECRET_KEY"] = "testing"
    assert not other & expected


def test_follow_up_outcomes_agree_with_the_app_s_follow_up_page(simulated_app, simulated):
    source = Source(simulated_app, db.engine)
    callbacks, complaints = analytics.callbacks(source), analytics.complaints(source)
    admin = db.session.scalar(sa.select(Staff).where(Staff.username == "admin"))
    start, end = simulated.start, simulated.end
    assert callbacks["recorded_on"].notna().sum() > 5 and len(complaints) > 0

    page = targets.overall(targets.outcomes(admin, start, end))
    mine = analytics.outcomes(callbacks, complaints, start, end).loc["all"]
    for field in (
        "maturities",
        "called",
        "participating",
        "converted_to_policy",
        "converted_to_deposit",
        "universal_reached",
        "universal_retained",
        "complaints_answered",
        "complaints_satisfied",
    ):
        assert mine[field] == getattr(page, field), field
    for measure in ("policy_conversion", "deposit_conversion", "universal_retention"):
        theirs = getattr(page, measure)
        assert (pd.isna(mine[measure]) and theirs is None) or mine[measure] == float(theirs)

    per_branch = {r.label: r for r in targets.outcomes(admin, start, end, "branch")}
    for branch, row in analytics.outcomes(
        callbacks, complaints, start, end, by="branch"
    ).iterrows():
        assert row["maturities"] == per_branch[branch].maturities
        assert row["called"] == per_branch[branch].called


def test_quadrant_as_of_agrees_with_the_app_s_own(simulated_app, simulated):
    source = Source(simulated_app, db.engine)
    events = analytics.quadrant_events(source)
    ids = {source.pseudonym(i): i for i in db.session.scalars(sa.select(Customer.id))}
    moved = events.loc[events["from_quadrant"].notna(), "at"]
    assert len(moved) >= 3
    for when in [*moved.iloc[:3], pd.Timestamp(simulated.start, tz="Asia/Shanghai")]:
        mine = analytics.quadrant_as_of(events, when)
        theirs = tiering.quadrants_as_of(when.to_pydatetime())
        assert {ids[c]: q for c, q in mine.items()} == {i: q.value for i, q in theirs.items()}


def test_budget_usage_is_what_the_app_counts(simulated_app, simulated):
    source = Source(simulated_app, db.engine)
    usage = analytics.budget_usage(source, simulated.end).set_index("customer")
    assert usage["used"].sum() > 0
    for customer in db.session.scalars(sa.select(Customer).order_by(Customer.id).limit(15)):
        figures = budget.budget_for(customer, simulated.end)
        row = usage.loc[source.pseudonym(customer.id)]
        assert row["used"] == pytest.approx(float(figures.used))
        assert row["limit"] == float(figures.limit)
        assert row["quadrant"] == customer.quadrant.value


def test_money_times_and_event_order_come_back_exact(app, world):
    """Money in yuan (SQLite keeps fen), times in the business's zone, events in customer
    and time order whatever order they were written in."""
    owner = world.alice
    rich = make_customer(owner, "赵六", "+8613700004444", liquid_assets=Decimal("1234567.89"))
    db.session.flush()
    utc = [datetime(2026, 1, d, 2, 30, tzinfo=UTC) for d in (1, 5, 9)]
    for customer, source_q, target, when in (
        (rich, Quadrant.CULTIVATE, Quadrant.PAMPER, utc[2]),
        (world.alice_customer, None, Quadrant.DEVELOP, utc[0]),
        (rich, None, Quadrant.CULTIVATE, utc[0]),
        (world.alice_customer, Quadrant.DEVELOP, Quadrant.MAINTAIN, utc[1]),
    ):
        db.session.add(
            QuadrantEvent(
                customer_id=customer.id,
                from_quadrant=source_q,
                to_quadrant=target,
                liquid_assets=customer.liquid_assets,
                willingness=customer.willingness,
                capability_threshold=Decimal("1000000"),
                willingness_threshold=60,
                cause=MoveCause.IMPORT if source_q is None else MoveCause.EXPERIENCE,
                at=when,
            )
        )
    db.session.add(
        Experience(
            customer_id=rich.id,
            category=Touchpoint.VISIT,
            status=ExperienceStatus.DONE,
            origin=PlanOrigin.STAFF,
            due_on=date(2026, 1, 9),
            held_on=date(2026, 1, 9),
            planned_cost=Decimal("80.00"),
            actual_cost=Decimal("85.50"),
        )
    )
    db.session.commit()
    source = Source(app, db.engine)

    customers = analytics.customers(source).set_index("customer")
    assert customers.loc[source.pseudonym(rich.id), "liquid_assets"] == 1234567.89
    assert customers.loc[source.pseudonym(rich.id), "branch"] == "城东支行"
    experience = analytics.experiences(source).iloc[0]
    assert (experience["planned_cost"], experience["actual_cost"]) == (80.0, 85.5)
    assert experience["held_on"] == pd.Timestamp("2026-01-09")
    events = analytics.quadrant_events(source)
    assert str(events["at"].dt.tz) == "Asia/Shanghai"
    assert events["at"].iloc[0].hour == 10  # 02:30 UTC is 10:30 in Shanghai
    # Each customer's events together, in time order (written out of order above).
    runs = events["customer"].ne(events["customer"].shift()).cumsum()
    assert runs.nunique() == events["customer"].nunique() == 2
    assert events.groupby("customer")["at"].apply(lambda s: s.is_monotonic_increasing).all()
    matrix = analytics.transition_matrix(events, "2026-01-02", "2026-01-09", new=True)
    assert matrix.loc["develop", "maintain"] == 1
    assert matrix.loc["cultivate", "pamper"] == 1
    assert matrix.to_numpy().sum() == 2
