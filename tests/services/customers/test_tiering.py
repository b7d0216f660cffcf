"""The quadrant rule, its events, re-tiering and history."""

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from crm.core import revisions
from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import Customer, QuadrantEvent
from crm.models.enums import MoveCause, Quadrant
from crm.services.customers import dossier, tiering, willingness
from crm.services.customers.tiering import Thresholds, quadrant_for
from tests.support.factories import make_customer

DEFAULT = Thresholds()


@pytest.mark.parametrize(
    "assets, score, expected",
    [
        ("1000000.00", 60, Quadrant.PAMPER),  # both exactly on the line are high
        ("1000000.00", 59, Quadrant.CULTIVATE),
        ("999999.99", 60, Quadrant.MAINTAIN),
        ("999999.99", 59, Quadrant.DEVELOP),
        ("0", 0, Quadrant.DEVELOP),
        ("50000000", 100, Quadrant.PAMPER),
    ],
)
def test_boundaries_are_high_at_the_threshold(assets, score, expected):
    assert quadrant_for(Decimal(assets), score, DEFAULT) == expected


def test_sql_rule_agrees_with_the_python_rule_on_the_boundaries(world):
    cases = [("1000000.00", 60), ("1000000.00", 59), ("999999.99", 60), ("999999.99", 59)]
    for i, (assets, score) in enumerate(cases):
        make_customer(
            world.alice,
            f"边界{i}",
            f"+8613700000{i:03d}",
            liquid_assets=Decimal(assets),
            willingness=score,
        )
    db.session.commit()
    rows = db.session.execute(
        sa.select(
            Customer.liquid_assets, Customer.willingness, tiering.quadrant_case(DEFAULT)
        ).where(Customer.name.startswith("边界"))
    ).all()
    assert len(rows) == 4
    for assets, score, sql_quadrant in rows:
        assert Quadrant(sql_quadrant) == quadrant_for(assets, score, DEFAULT)


def _events(customer_id):
    return db.session.scalars(
        sa.select(QuadrantEvent)
        .where(QuadrantEvent.customer_id == customer_id)
        .order_by(QuadrantEvent.id)
    ).all()


def test_a_new_dossier_is_placed_with_an_event(world):
    customer = dossier.create_customer(
        world.alice,
        {
            "name": "钱多多",
            "phone": "13512345678",
            "gender": "male",
            "risk_level": "R3",
            "liquid_assets": Decimal("2500000"),
            "willingness": 70,
        },
    )
    db.session.commit()
    assert customer.quadrant == Quadrant.PAMPER
    [event] = _events(customer.id)
    assert (event.from_quadrant, event.to_quadrant, event.cause) == (
        None,
        Quadrant.PAMPER,
        MoveCause.DOSSIER_EDIT,
    )
    assert event.actor_id == world.alice.id and event.liquid_assets == Decimal("2500000.00")


def test_a_dossier_edit_that_crosses_a_line_moves_the_customer(world):
    customer = world.alice_customer  # ¥100,000 and 40: develop
    values = dossier.form_values(customer) | {"liquid_assets": Decimal("1200000")}
    dossier.update_customer(world.alice, customer, values, customer.version)
    db.session.commit()
    [event] = _events(customer.id)
    assert (event.from_quadrant, event.to_quadrant, event.cause) == (
        Quadrant.DEVELOP,
        Quadrant.CULTIVATE,
        MoveCause.DOSSIER_EDIT,
    )
    # An edit that stays inside the cell writes no event.
    values = dossier.form_values(customer) | {"occupation": "医生"}
    dossier.update_customer(world.alice, customer, values, customer.version)
    db.session.commit()
    assert len(_events(customer.id)) == 1


def test_reassessment_needs_a_reason_and_records_it(world):
    customer = world.alice_customer
    with pytest.raises(InvalidInput) as error:
        willingness.reassess_willingness(world.alice, customer, 75, "  ", customer.version)
    assert "reason" in error.value.errors
    willingness.reassess_willingness(
        world.alice, customer, 75, "主动介绍了两位朋友", customer.version
    )
    db.session.commit()
    [event] = _events(customer.id)
    assert event.cause == MoveCause.REASSESSMENT and event.note == "主动介绍了两位朋友"
    assert event.to_quadrant == Quadrant.MAINTAIN and customer.willingness == 75


def test_reassessment_on_a_stale_version_is_refused(world):
    customer = world.alice_customer
    with pytest.raises(revisions.StaleDossier):
        willingness.reassess_willingness(world.alice, customer, 75, "理由", customer.version - 1)


@pytest.mark.parametrize("cause", list(MoveCause))
def test_every_cause_writes_its_event(world, cause):
    customer = world.bob_customer
    customer.willingness = 90
    event = tiering.place(customer, cause, world.manager, experience_id=None, note="x")
    db.session.commit()
    assert event is not None
    stored = _events(customer.id)[-1]
    assert (stored.cause, stored.from_quadrant, stored.to_quadrant) == (
        cause,
        Quadrant.DEVELOP,
        Quadrant.MAINTAIN,
    )


def test_threshold_change_retiers_everyone_set_based_and_idempotently(world):
    for c in (world.alice_customer, world.bob_customer, world.carol_customer):
        tiering.place(c, MoveCause.IMPORT, None, first=True)
    world.bob_customer.liquid_assets = Decimal("600000")
    world.carol_customer.willingness = 55
    db.session.commit()
    summary = tiering.change_thresholds(world.admin, Thresholds(Decimal("500000"), 50))
    assert summary.moves == Counter(
        {
            (Quadrant.DEVELOP, Quadrant.CULTIVATE): 1,  # bob: ¥600,000 ≥ ¥500,000
            (Quadrant.DEVELOP, Quadrant.MAINTAIN): 1,  # carol: 55 ≥ 50
        }
    )
    db.session.expire_all()
    assert tiering.current_thresholds() == Thresholds(Decimal("500000.00"), 50)
    moved = db.session.scalars(
        sa.select(QuadrantEvent).where(QuadrantEvent.cause == MoveCause.THRESHOLD_CHANGE)
    ).all()
    assert {e.customer_id for e in moved} == {world.bob_customer.id, world.carol_customer.id}
    assert all(e.capability_threshold == Decimal("500000.00") for e in moved)
    assert tiering.retier_all(Thresholds(Decimal("500000"), 50)).moved == 0


def test_interrupted_retier_leaves_each_customer_old_or_new_with_matching_events(world):
    customers = [world.alice_customer, world.bob_customer, world.carol_customer]
    for c in customers:
        c.willingness = 55
    db.session.commit()
    new = Thresholds(Decimal("1000000"), 50)

    def stop_after_first_chunk(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        tiering.retier_all(new, chunk=1, progress=stop_after_first_chunk)
    db.session.rollback()
    db.session.expire_all()
    for c in customers:
        events = [e for e in _events(c.id) if e.cause == MoveCause.THRESHOLD_CHANGE]
        if c.quadrant == Quadrant.MAINTAIN:
            assert len(events) == 1 and events[0].to_quadrant == Quadrant.MAINTAIN
        else:
            assert c.quadrant == Quadrant.DEVELOP and events == []
    assert sum(c.quadrant == Quadrant.MAINTAIN for c in customers) == 1
    # Running again finishes the job.
    assert tiering.retier_all(new).moved == 2
    db.session.expire_all()
    assert all(c.quadrant == Quadrant.MAINTAIN for c in customers)


@pytest.mark.parametrize(
    "capability, score, field",
    [
        ("-1", "60", "capability_threshold"),
        ("0", "60", "capability_threshold"),
        ("lots", "60", "capability_threshold"),
        ("1e20", "60", "capability_threshold"),
        ("1000000.001", "60", "capability_threshold"),
        ("1000000", "0", "willingness_threshold"),
        ("1000000", "101", "willingness_threshold"),
        ("1000000", "sixty", "willingness_threshold"),
    ],
)
def test_bad_thresholds_are_refused(capability, score, field):
    with pytest.raises(InvalidInput) as error:
        tiering.parse_thresholds(capability, score)
    assert field in error.value.errors


def test_quadrant_as_of_a_date_comes_from_the_events(world):
    """A hand-built history: alice's customer placed in January, promoted in March,
    demoted in June; bob's placed in April only."""
    a, b = world.alice_customer.id, world.bob_customer.id

    def event(customer_id, when, source, target):
        db.session.add(
            QuadrantEvent(
                customer_id=customer_id,
                from_quadrant=source,
                to_quadrant=target,
                liquid_assets=Decimal(0),
                willingness=0,
                capability_threshold=Decimal(1),
                willingness_threshold=60,
                cause=MoveCause.DOSSIER_EDIT,
                at=when,
            )
        )

    d = lambda month, day=1: datetime(2026, month, day, 12, tzinfo=UTC)  # noqa: E731
    event(a, d(1), None, Quadrant.DEVELOP)
    event(a, d(3), Quadrant.DEVELOP, Quadrant.MAINTAIN)
    event(a, d(6), Quadrant.MAINTAIN, Quadrant.DEVELOP)
    event(b, d(4), None, Quadrant.CULTIVATE)
    db.session.commit()
    assert tiering.quadrants_as_of(d(1) - timedelta(days=1)) == {}
    assert tiering.quadrants_as_of(d(2)) == {a: Quadrant.DEVELOP}
    assert tiering.quadrants_as_of(d(3)) == {a: Quadrant.MAINTAIN}  # at the instant counts
    assert tiering.quadrants_as_of(d(5)) == {a: Quadrant.MAINTAIN, b: Quadrant.CULTIVATE}
    assert tiering.quadrants_as_of(d(12)) == {a: Quadrant.DEVELOP, b: Quadrant.CULTIVATE}
    only_bob = Customer.owner_id == world.bob.id
    assert tiering.quadrants_as_of(d(12), only_bob) == {b: Quadrant.CULTIVATE}
