"""Churn risk: each signal shows from its threshold and not before, with its reason in words,
and the scoring stores score, level, reasons and a history row per day the score changed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import AuditLog, ChurnScoreDay, Complaint, Experience, MaturityCallback, Policy
from crm.models.enums import (
    CallbackIntent,
    ChurnLevel,
    ExperienceStatus,
    PaymentMode,
    PlanOrigin,
    ProductType,
    Response,
    Touchpoint,
)
from crm.services.retention import reasons, scoring, signals

NOW = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)  # noon in Shanghai
TODAY = date(2026, 11, 30)


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


def at_days_ago(n: int) -> datetime:
    return NOW - timedelta(days=n)


@pytest.fixture
def customer(world):
    """A customer whose dossier opened 80 days ago: no signal shows yet."""
    customer = world.alice_customer
    customer.created_at = at_days_ago(80)
    db.session.commit()
    return customer


def held(customer, ago: int, response=None, status=ExperienceStatus.DONE) -> None:
    db.session.add(
        Experience(
            customer_id=customer.id,
            category=Touchpoint.VISIT,
            status=status,
            origin=PlanOrigin.STAFF,
            due_on=days_ago(ago),
            held_on=days_ago(ago),
            planned_cost=Decimal("0.00"),
            response=response,
        )
    )


def revised(customer, field: str, old: str, new: str, ago: int) -> None:
    db.session.add(
        AuditLog(
            at=at_days_ago(ago),
            entity="customer",
            entity_id=customer.id,
            customer_id=customer.id,
            action="update",
            field=field,
            old_value=old,
            new_value=new,
        )
    )


def scored(customer) -> dict[str, tuple[int, int]]:
    """Score everyone; the customer's contributing signals as code -> (points, figure)."""
    db.session.commit()
    scoring.score_all(NOW)
    db.session.commit()
    db.session.refresh(customer)
    return {code: (points, figure) for code, points, figure in customer.churn_reasons}


def words(customer) -> list[str]:
    with force_locale("en"):
        return reasons.describe_all(customer.churn_reasons)


def test_a_quiet_new_customer_scores_zero_and_low(customer):
    assert scored(customer) == {}
    assert customer.churn_score == 0 and customer.churn_level == ChurnLevel.LOW
    assert customer.churn_scored_at == NOW


@pytest.mark.parametrize(("opened", "expected"), [(89, None), (90, (13, 90)), (200, (25, 200))])
def test_silence_shows_from_90_days_without_positive_contact(customer, opened, expected):
    customer.created_at = at_days_ago(opened)
    assert scored(customer).get("silence") == expected
    if expected:
        assert words(customer) == [f"no positive contact for {opened} days"]


def test_silence_counts_days_of_the_business_calendar_after_midnight_in_beijing(customer):
    # 01:00 in Beijing is still the day before in UTC: the dossier opened at 02:00 Beijing
    # time 90 days ago is 90 days silent, not 91 (its UTC date is a day earlier).
    now = datetime(2026, 11, 29, 17, 0, tzinfo=UTC)  # 30 November, 01:00 in Beijing
    customer.created_at = datetime(2026, 8, 31, 18, 0, tzinfo=UTC)  # 1 September, 02:00
    db.session.commit()
    scoring.score_all(now)
    db.session.commit()
    db.session.refresh(customer)
    reasons_by_code = {code: figure for code, _, figure in customer.churn_reasons}
    assert reasons_by_code.get("silence") == 90


def test_a_liked_experience_ends_the_silence_and_others_do_not(customer):
    customer.created_at = at_days_ago(400)
    held(customer, 150, Response.POSITIVE)
    held(customer, 20, Response.NEUTRAL)
    assert scored(customer)["silence"] == (21, 150)
    held(customer, 30, Response.ENTHUSIASTIC)
    assert "silence" not in scored(customer)


@pytest.mark.parametrize(("old", "expected"), [("69", None), ("70", (5, 10)), ("95", (15, 35))])
def test_willingness_drop_shows_from_10_points_in_90_days(customer, old, expected):
    customer.willingness = 60
    revised(customer, "willingness", old, "60", ago=60)
    assert scored(customer).get("willingness_drop") == expected
    if expected:
        assert words(customer) == [f"willingness fell {expected[1]} points in 90 days"]


def test_a_willingness_drop_before_the_90_days_is_not_a_signal(customer):
    customer.willingness = 40
    revised(customer, "willingness", "80", "40", ago=91)
    assert "willingness_drop" not in scored(customer)


def test_unresponsive_shows_from_two_experiences_without_a_response_in_180_days(customer):
    held(customer, 200, Response.NO_RESPONSE)  # too long ago
    held(customer, 10, Response.NO_RESPONSE)
    assert "unresponsive" not in scored(customer)
    held(customer, 20, status=ExperienceStatus.NO_SHOW)
    assert scored(customer)["unresponsive"] == (10, 2)
    held(customer, 30, Response.NO_RESPONSE)
    assert scored(customer)["unresponsive"] == (15, 3)
    assert "3 experiences without a response" in words(customer)


def test_a_negative_response_shows(customer):
    held(customer, 181, Response.NEGATIVE)
    assert "negative" not in scored(customer)
    held(customer, 5, Response.NEGATIVE)
    assert scored(customer)["negative"] == (5, 1)
    assert words(customer) == ["1 negative response"]


def test_an_open_complaint_shows_half_then_all_past_its_answer_date(customer):
    complaint = Complaint(
        customer_id=customer.id,
        point="收益低",
        opened_at=at_days_ago(3),
        due_at=at_days_ago(3) + timedelta(days=7),
    )
    db.session.add(complaint)
    assert scored(customer)["complaint"] == (5, 1)
    assert words(customer) == ["complaint awaiting its answer"]
    complaint.opened_at, complaint.due_at = at_days_ago(8), at_days_ago(1)
    assert scored(customer)["complaint"] == (10, 2)
    assert words(customer) == ["complaint unanswered past its answer date"]
    complaint.answered_at = at_days_ago(0)
    assert "complaint" not in scored(customer)


def test_a_matured_policy_without_an_intent_shows_for_90_days(customer):
    policy = Policy(
        customer_id=customer.id,
        policy_number="P-1",
        product_name="鑫享年金",
        product_type=ProductType.ANNUITY,
        premium=Decimal("50000.00"),
        payment_mode=PaymentMode.SINGLE,
        start_date=date(2021, 1, 1),
        maturity_date=days_ago(89),
    )
    db.session.add(policy)
    assert scored(customer)["matured"] == (10, 1)
    assert words(customer) == ["policy matured, no intent recorded"]
    policy.maturity_date = days_ago(90)
    assert "matured" not in scored(customer)
    policy.maturity_date = days_ago(10)
    db.session.flush()
    db.session.add(
        MaturityCallback(
            policy_id=policy.id,
            customer_id=customer.id,
            owner_id=customer.owner_id,
            maturity_date=policy.maturity_date,
            intent=CallbackIntent.RENEW,
            recorded_at=at_days_ago(5),
        )
    )
    assert "matured" not in scored(customer)


@pytest.mark.parametrize(
    ("now", "expected"), [("81000", None), ("80000", (6, 20)), ("0", (15, 100))]
)
def test_assets_revised_down_show_from_20_percent_in_180_days(customer, now, expected):
    customer.liquid_assets = Decimal(now)
    revised(customer, "liquid_assets", "100000.00", f"{now}.00", ago=100)
    assert scored(customer).get("assets_down") == expected
    if expected:
        assert words(customer) == [f"liquid assets revised down {expected[1]}%"]


def test_the_score_sums_the_signals_at_most_100_and_sets_the_level(customer):
    customer.created_at = at_days_ago(300)  # silence 25
    customer.willingness = 30
    revised(customer, "willingness", "70", "30", ago=30)  # 15
    for ago in (10, 20, 30):
        held(customer, ago, Response.NO_RESPONSE)  # 15
    held(customer, 40, Response.NEGATIVE)  # 5
    assert customer.churn_level is None
    scored(customer)
    assert customer.churn_score == 60 and customer.churn_level == ChurnLevel.HIGH
    assert len(words(customer)) == 3
    assert words(customer)[0] == "no positive contact for 300 days"


def test_history_keeps_a_row_per_day_the_score_changed(customer):
    scored(customer)
    scored(customer)  # the same score again: no new row
    rows = db.session.scalars(sa.select(ChurnScoreDay)).all()
    assert [(r.scored_on, r.score, r.previous_level) for r in rows] == [(TODAY, 0, None)]
    held(customer, 1, Response.NEGATIVE)
    scored(customer)  # later the same day: that day's row is rewritten
    rows = db.session.scalars(sa.select(ChurnScoreDay)).all()
    assert [(r.scored_on, r.score) for r in rows] == [(TODAY, 5)]


def test_weights_are_data_admins_change_and_bad_ones_are_refused(world, customer):
    with pytest.raises(InvalidInput) as refused:
        signals.parse_weights({"silence": "lots", "negative": "-1", "complaint": "7.5"})
    assert set(refused.value.errors) == {"silence", "negative"}
    assert signals.current_weights()["silence"] == 25
    signals.save_weights(world.admin, signals.parse_weights({"negative": "40"}))
    db.session.commit()
    assert signals.current_weights()["negative"] == 40
    held(customer, 5, Response.NEGATIVE)
    assert scored(customer)["negative"] == (20, 1)


def test_reasons_read_in_chinese(customer):
    customer.created_at = at_days_ago(140)
    scored(customer)
    with force_locale("zh_Hans_CN"):
        assert reasons.describe_all(customer.churn_reasons) == ["140 天无正面接触"]
