"""The nightly scoring (job ``churn_score`` and ``flask crm churn-score``), the morning digest
listing customers who became high risk, and the CLI's weights and backtest with bad input
(refused in the deployment's language, zh_CN)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from crm.extensions import db
from crm.models import ChurnScoreDay, Customer, Notification
from crm.models.enums import ChurnLevel, NotificationKind, RelationshipStatus
from crm.scheduler import jobs
from crm.services.outreach.digest import send_morning_digest
from crm.services.retention import scoring, signals
from tests.support.factories import make_customer

NIGHT = datetime(2026, 11, 22, 18, 0, tzinfo=UTC)  # 02:00 on the 23rd in Shanghai
TODAY = date(2026, 11, 23)


def test_the_nightly_job_is_declared_and_scores_everyone(world):
    assert jobs.spec_for("churn_score").when == jobs.Cron(hour=2, minute=0)
    assert jobs.churn_score().startswith("scored 3 (low 3)")
    levels = db.session.scalars(sa.select(Customer.churn_level)).all()
    assert levels == [ChurnLevel.LOW] * 3


def test_the_digest_lists_customers_who_became_high_risk(world):
    world.alice.language = "en"
    silent = world.alice_customer
    silent.created_at = NIGHT - timedelta(days=400)
    silent.churn_score, silent.churn_level = 20, ChurnLevel.LOW  # yesterday's
    db.session.commit()
    signals.save_weights(None, {"silence": 70})
    scoring.score_all(NIGHT)
    db.session.commit()
    assert silent.churn_level == ChurnLevel.HIGH
    row = db.session.scalars(
        sa.select(ChurnScoreDay).where(ChurnScoreDay.customer_id == silent.id)
    ).one()
    assert (row.previous_level, row.level) == (ChurnLevel.LOW, ChurnLevel.HIGH)

    assert send_morning_digest(TODAY) == 1
    [digest] = db.session.scalars(
        sa.select(Notification).where(Notification.kind == NotificationKind.DIGEST)
    ).all()
    assert digest.staff_id == world.alice.id
    assert "Became high churn risk (1)" in digest.body
    assert "张伟 — churn risk 70" in digest.body
    # The next day nothing new rose: no churn section (and here no digest at all).
    assert send_morning_digest(TODAY + timedelta(days=1)) == 0


def test_a_lost_customer_is_not_scored_nor_listed(world):
    for customer in (world.alice_customer, world.bob_customer, world.carol_customer):
        customer.created_at = NIGHT - timedelta(days=30)
    lost = world.alice_customer
    lost.relationship_status = RelationshipStatus.LOST
    db.session.commit()
    summary = scoring.score_all(NIGHT)
    db.session.commit()
    assert summary.scored == 2 and lost.churn_score is None


def test_the_command_scores_and_the_weights_refuse_bad_numbers(world, runner):
    result = runner.invoke(args=["crm", "churn-score"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Scored 3 customers (high 0, medium 0, low 3)")

    refused = runner.invoke(args=["crm", "churn-weights", "--set", "silence=-3"])
    assert refused.exit_code == 2 and "权重须为 0 到 100 之间的数字" in refused.output
    refused = runner.invoke(args=["crm", "churn-weights", "--set", "negative=many"])
    assert refused.exit_code == 2 and "权重须为数字" in refused.output
    assert signals.current_weights() == {s.code: s.weight for s in signals.SIGNALS}

    changed = runner.invoke(args=["crm", "churn-weights", "--set", "silence=30"])
    assert changed.exit_code == 0 and "silence           30" in changed.output


def test_the_backtest_command_refuses_the_future_and_a_horizon_not_above_zero(world, runner):
    future = runner.invoke(args=["crm", "churn-backtest", "--as-of", "2999-01-01"])
    assert future.exit_code == 2 and "请选择今天或更早的日期" in future.output
    zero = runner.invoke(
        args=["crm", "churn-backtest", "--as-of", "2026-01-01", "--horizon-days", "0"]
    )
    assert zero.exit_code == 2 and "1 到 3650" in zero.output
    make_customer(world.alice, "新客户", "+8613800004444")
    db.session.commit()
    ran = runner.invoke(args=["crm", "churn-backtest", "--as-of", "2026-01-01"])
    assert ran.exit_code == 0, ran.output
    assert "churn score" in ran.output and "recency only" in ran.output
