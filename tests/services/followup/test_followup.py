"""Maturity follow-up (seed 003): the scan's window and idempotence, recording call-backs,
the daily quota, the age-band hints and the targets' arithmetic."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from werkzeug.exceptions import NotFound

from crm.core.clock import local_today
from crm.core.inputs import InvalidInput
from crm.core.revisions import StaleDossier
from crm.extensions import db
from crm.models import AuditLog, Experience, MaturityCallback, Policy, Product, QuadrantEvent
from crm.models.enums import (
    CallbackIntent,
    Channel,
    ExperienceStatus,
    MoveCause,
    PaymentMode,
    PolicyStatus,
    ProductType,
    Quadrant,
    Response,
    RiskLevel,
    Touchpoint,
)
from crm.services.customers import tiering
from crm.services.followup import calls, hints, targets
from tests.support.factories import make_customer

_numbers = iter(range(1, 1_000_000))


def policy(customer, maturity: date | None, kind=ProductType.PARTICIPATING, **fields) -> Policy:
    p = Policy(
        customer=customer,
        policy_number=f"P{next(_numbers):07d}",
        product_name="千里马两全保险(分红型)",
        product_type=kind,
        premium=Decimal("50000.00"),
        payment_mode=PaymentMode.SINGLE,
        start_date=date(2019, 1, 1),
        maturity_date=maturity,
        status=fields.pop("status", PolicyStatus.IN_FORCE),
        **fields,
    )
    db.session.add(p)
    return p


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_the_window_runs_from_this_months_first_to_next_months_last():
    assert calls.scan_window(date(2026, 11, 23)) == (date(2026, 11, 1), date(2026, 12, 31))
    assert calls.scan_window(date(2026, 12, 31)) == (date(2026, 12, 1), date(2027, 1, 31))
    assert calls.scan_window(date(2027, 1, 30)) == (date(2027, 1, 1), date(2027, 2, 28))


def test_the_scan_makes_one_task_per_maturity_in_the_window_and_only_once(world):
    today = date(2026, 11, 23)
    c = world.alice_customer
    inside = [
        policy(c, date(2026, 11, 1)),  # matured this month: still worth the call
        policy(c, date(2026, 12, 31)),  # the last day of next month
        policy(c, date(2026, 11, 24)),
    ]
    outside = [
        policy(c, date(2026, 10, 31)),
        policy(c, date(2027, 1, 1)),
        policy(c, None),  # whole life
        policy(c, date(2026, 12, 1), status=PolicyStatus.SURRENDERED),
    ]
    db.session.commit()

    assert calls.maturity_scan(today) == 3
    db.session.commit()
    assert calls.maturity_scan(today) == 0  # idempotent
    assert calls.maturity_scan(today + timedelta(days=1)) == 0
    db.session.commit()
    tasks = db.session.scalars(sa.select(MaturityCallback)).all()
    assert sorted(t.policy_id for t in tasks) == sorted(p.id for p in inside)
    assert {t.owner_id for t in tasks} == {world.alice.id}
    assert not {t.policy_id for t in tasks} & {p.id for p in outside}

    # A new maturity date (the policy was extended) is a new maturity, so a new task.
    inside[1].maturity_date = date(2026, 12, 30)
    db.session.commit()
    assert calls.maturity_scan(today) == 1


def test_the_list_is_most_urgent_first_with_the_days_progress(world):
    today = local_today()
    c = world.alice_customer
    later = policy(c, today + timedelta(days=20))
    sooner = policy(c, today + timedelta(days=3))
    policy(world.bob_customer, today + timedelta(days=1))  # bob's, not alice's
    db.session.commit()
    calls.maturity_scan(today)
    db.session.commit()

    day = calls.day_of_callbacks(world.alice, today)
    assert [t.policy_id for t in day.open] == [sooner.id, later.id]
    assert (day.open_count, day.done_today, day.quota, day.remaining_today) == (2, 0, 20, 20)

    calls.record_callback(world.alice, day.open[0], {"intent": "renew"}, day.open[0].version)
    db.session.commit()
    day = calls.day_of_callbacks(world.alice, today)
    assert [t.policy_id for t in day.open] == [later.id]
    assert (day.open_count, day.done_today, day.remaining_today) == (1, 1, 19)


def test_the_quota_is_configurable(settings, world):
    settings(CRM_CALLBACK_DAILY_QUOTA=25)
    assert calls.day_of_callbacks(world.alice).quota == 25


def scanned(world, customer=None, **kw) -> MaturityCallback:
    customer = customer or world.alice_customer
    policy(customer, local_today() + timedelta(days=10), **kw)
    db.session.commit()
    calls.maturity_scan()
    db.session.commit()
    return db.session.scalars(
        sa.select(MaturityCallback).order_by(MaturityCallback.id.desc())
    ).first()


def test_recording_keeps_the_form_fields_and_makes_a_costed_routine_experience(world):
    task = scanned(world)
    customer = task.customer
    before = customer.willingness
    calls.record_callback(
        world.alice,
        task,
        {
            "intent": "new_policy",
            "maturity_note": "满期金 5.6 万, 已到账",
            "conversion_note": "有意转年金",
            "remarks": "周末再联系",
        },
        task.version,
    )
    db.session.commit()

    assert task.intent == CallbackIntent.NEW_POLICY
    assert (task.maturity_note, task.conversion_note, task.remarks) == (
        "满期金 5.6 万, 已到账",
        "有意转年金",
        "周末再联系",
    )
    assert task.recorded_by_id == world.alice.id and task.recorded_on == local_today()
    experience = task.experience
    assert experience.category == Touchpoint.ROUTINE
    assert experience.status == ExperienceStatus.DONE
    assert experience.response == Response.ENTHUSIASTIC
    assert experience.actual_cost == Decimal("0.10")  # the routine category's unit cost
    assert task.policy.policy_number in experience.notes and "周末再联系" in experience.notes
    assert customer.willingness == before + 10  # the enthusiastic response's delta
    assert db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditLog)
        .where(AuditLog.entity == "maturity_callback", AuditLog.entity_id == task.id)
    )


def test_a_call_back_can_move_the_quadrant_with_its_experience_as_the_cause(world):
    customer = world.alice_customer
    customer.willingness = 55
    tiering.place(customer, MoveCause.IMPORT, None, first=True)
    db.session.commit()
    assert customer.quadrant == Quadrant.DEVELOP
    task = scanned(world)
    recorded = calls.record_callback(world.alice, task, {"intent": "new_policy"}, task.version)
    db.session.commit()
    assert (recorded.moved_from, recorded.moved_to) == (Quadrant.DEVELOP, Quadrant.MAINTAIN)
    move = db.session.scalars(
        sa.select(QuadrantEvent).where(QuadrantEvent.cause == MoveCause.EXPERIENCE)
    ).one()
    assert move.experience_id == task.experience_id


def test_unreachable_is_a_no_show_without_response_credit(world):
    task = scanned(world)
    before = task.customer.willingness
    calls.record_callback(world.alice, task, {"intent": "unreachable"}, task.version)
    db.session.commit()
    assert task.experience.status == ExperienceStatus.NO_SHOW
    assert task.customer.willingness == before - 2


@pytest.mark.parametrize(
    "data, field",
    [
        ({"intent": "maybe"}, "intent"),
        ({}, "intent"),
        ({"intent": "renew", "remarks": "x" * 1501}, "remarks"),
        ({"intent": "renew", "product_id": "999999"}, "product_id"),
        ({"intent": "renew", "conversion_note": "bad\x00byte"}, "conversion_note"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(world, data, field):
    task = scanned(world)
    willingness = task.customer.willingness
    with pytest.raises(InvalidInput) as refused:
        calls.record_callback(world.alice, task, data, task.version)
    db.session.rollback()
    assert field in refused.value.errors
    assert count(Experience) == 0
    db.session.refresh(task)
    assert task.recorded_at is None and task.intent is None
    assert task.customer.willingness == willingness


def test_an_unsuitable_recommendation_is_refused_with_the_reason(world):
    task = scanned(world)
    task.customer.risk_level = RiskLevel.R1
    db.session.commit()
    universal = db.session.scalars(
        sa.select(Product).where(Product.product_type == ProductType.UNIVERSAL)
    ).one()
    with pytest.raises(InvalidInput) as refused:
        calls.record_callback(
            world.alice, task, {"intent": "new_policy", "product_id": universal.id}, task.version
        )
    db.session.rollback()
    with force_locale("en"):
        message = str(refused.value.errors["product_id"])
    assert "R3" in message and "R1" in message and "protection products only" in message
    assert count(Experience) == 0

    accident = db.session.scalars(
        sa.select(Product).where(Product.product_type == ProductType.ACCIDENT)
    ).one()
    calls.record_callback(
        world.alice, task, {"intent": "new_policy", "product_id": accident.id}, task.version
    )
    db.session.commit()
    assert task.product_id == accident.id and task.experience.product_id == accident.id


def test_recording_twice_or_from_a_stale_page_is_refused(world):
    task = scanned(world)
    version = task.version
    calls.record_callback(world.alice, task, {"intent": "renew"}, version)
    db.session.commit()
    with pytest.raises(InvalidInput):
        calls.record_callback(world.alice, task, {"intent": "deposit"}, task.version)
    db.session.rollback()
    assert task.intent == CallbackIntent.RENEW

    other = scanned(world)
    with pytest.raises(StaleDossier):
        calls.record_callback(world.alice, other, {"intent": "renew"}, other.version + 1)
    db.session.rollback()


def test_another_staff_members_customer_is_not_found(world):
    task = scanned(world, customer=world.bob_customer)
    with pytest.raises(NotFound):
        calls.get_callback_or_404(task.id, world.alice)
    assert calls.get_callback_or_404(task.id, world.bob) is task
    assert calls.get_callback_or_404(task.id, world.manager) is task  # bob's branch manager
    with pytest.raises(NotFound):
        calls.get_callback_or_404(task.id, world.carol)


@pytest.mark.parametrize(
    "age, risk, band, types",
    [
        (25, RiskLevel.R1, "20–30", {"protection", "accident", "medical", "critical_illness"}),
        (35, RiskLevel.R1, "31–40", set()),  # education products are R2: none suitable at R1
        (35, RiskLevel.R2, "31–40", {"annuity", "participating"}),
        (45, RiskLevel.R2, "41–50", {"annuity"}),  # universal life is R3
        (45, RiskLevel.R3, "41–50", {"annuity", "universal"}),
        (55, RiskLevel.R1, "51–60", {"whole_life"}),
    ],
)
def test_age_band_hints_are_filtered_by_suitability(world, age, risk, band, types):
    today = local_today()
    customer = world.alice_customer
    customer.birth_date = date(today.year - age, 1, 1)  # born on 1 January: exactly `age`
    customer.risk_level = risk
    db.session.commit()
    hint = hints.hint_for(customer, today)
    with force_locale("en"):
        assert str(hint.band) == band
    assert {p.product_type.value for p in hint.products} == types
    assert not hint.deposit


def test_from_61_the_hint_is_a_deposit(world):
    today = local_today()
    customer = world.alice_customer
    customer.birth_date = date(today.year - 70, 1, 1)
    assert hints.hint_for(customer, today).deposit
    customer.birth_date = None
    assert hints.hint_for(customer, today) is None


# --- the targets -------------------------------------------------------------------------------


def record(task, user, intent):
    calls.record_callback(user, task, {"intent": intent}, task.version)
    db.session.commit()


def test_the_targets_arithmetic_per_staff_branch_channel_and_overall(world):
    """Ten participating maturities for alice: 2 to a new policy, 3 to a deposit; five
    universal-life holders for bob: 3 keep it, 1 surrenders, 1 unreachable (not reached)."""
    today = local_today()
    maturity = today + timedelta(days=5)
    for i in range(10):
        c = make_customer(world.alice, f"甲{i}", f"+86138100{i:05d}", channel=Channel.REFERRAL)
        policy(c, maturity)
    for i in range(5):
        c = make_customer(world.bob, f"乙{i}", f"+86139100{i:05d}", channel=Channel.EVENT)
        policy(c, maturity, kind=ProductType.UNIVERSAL)
    db.session.commit()
    calls.maturity_scan(today)
    db.session.commit()
    tasks = db.session.scalars(sa.select(MaturityCallback).order_by(MaturityCallback.id)).all()
    alice_tasks, bob_tasks = tasks[:10], tasks[10:]
    for task, intent in zip(
        alice_tasks,
        ["new_policy", "new_policy", "deposit", "deposit", "deposit", "renew", "surrender"],
        strict=False,
    ):
        record(task, world.alice, intent)
    for task, intent in zip(
        bob_tasks, ["renew", "new_policy", "undecided", "surrender", "unreachable"], strict=True
    ):
        record(task, world.bob, intent)

    start, end = today.replace(day=1), today + timedelta(days=40)
    by_staff = {r.key: r for r in targets.outcomes(world.manager, start, end, "staff")}
    alice, bob = by_staff[world.alice.id], by_staff[world.bob.id]
    assert (alice.maturities, alice.called, alice.participating) == (10, 7, 10)
    assert alice.policy_conversion == Decimal("20.0")
    assert alice.deposit_conversion == Decimal("30.0")
    assert alice.universal_retention is None  # nothing to retain: no figure, not 0%
    assert (bob.universal_reached, bob.universal_retained) == (4, 3)
    assert bob.universal_retention == Decimal("75.0")
    assert bob.policy_conversion is None

    by_channel = {r.key: r for r in targets.outcomes(world.manager, start, end, "channel")}
    assert by_channel[Channel.REFERRAL].participating == 10
    assert by_channel[Channel.EVENT].universal_reached == 4

    (branch,) = targets.outcomes(world.manager, start, end, "branch")
    assert branch.label == "城东支行" and branch.maturities == 15
    total = targets.overall(targets.outcomes(world.manager, start, end, "staff"))
    assert (total.maturities, total.converted_to_policy, total.universal_retained) == (15, 2, 3)
    (single,) = targets.outcomes(world.manager, start, end)
    assert single.maturities == 15

    # Alice sees only her own customers' figures; carol's branch sees none of this.
    assert [r.key for r in targets.outcomes(world.alice, start, end, "staff")] == [world.alice.id]
    assert targets.outcomes(world.carol, start, end, "staff") == []
    # Outside the period nothing counts.
    assert targets.outcomes(world.manager, end + timedelta(days=1), end + timedelta(days=9)) == []
