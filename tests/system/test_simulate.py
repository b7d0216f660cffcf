"""The simulator: the real services under a moved clock leave a real-shaped history, the
same one for the same seed; and the clock it moves."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from crm.core import clock
from crm.extensions import db
from crm.models import (
    AuditLog,
    Complaint,
    Customer,
    Experience,
    MaturityCallback,
    Notification,
    OutboxMessage,
    Policy,
    QuadrantEvent,
)
from crm.models.base import utcnow
from crm.models.enums import ExperienceStatus, MoveCause, OutboxStatus, Touchpoint
from crm.services.simulation import run
from tests.support.databases import empty_tables

START = date(2026, 3, 2)
TODAY = run.add_months(START, 1)
HISTORY = (
    QuadrantEvent,
    Experience,
    MaturityCallback,
    Complaint,
    Customer,
    Policy,
    OutboxMessage,
    AuditLog,
    Notification,
)


def test_the_clock_is_frozen_inside_the_block_and_restored_after(app):
    before = utcnow()
    moment = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)  # 07:30 on the 3rd in Shanghai
    with clock.frozen(moment):
        assert utcnow() == moment
        assert clock.local_today() == date(2026, 3, 3)
        with clock.frozen(moment + timedelta(hours=1)):
            assert utcnow() == moment + timedelta(hours=1)
        assert utcnow() == moment
    assert abs(utcnow() - before) < timedelta(minutes=5)
    with pytest.raises(ValueError, match="naive"), clock.frozen(datetime(2026, 3, 2)):
        pass


def snapshot() -> dict[str, list[tuple]]:
    """Every row of the history tables, in id order (provider message ids left out: the
    console provider draws them at random, as a real provider would)."""
    tables = {}
    for model in HISTORY:
        table = model.__table__
        columns = [c for c in table.columns if c.name != "provider_message_id"]
        rows = db.session.execute(sa.select(*columns).order_by(table.c.id)).all()
        tables[table.name] = [tuple(row) for row in rows]
    db.session.commit()
    return tables


EXPERIENCE_REASON = re.compile(r"experience #(\d+)")


def by_content(tables: dict[str, list[tuple]]) -> dict[str, list[str]]:
    """The same rows with their numbering taken out: each reference to an experience or a
    call-back replaced by what it is, ids dropped, rows sorted. (PostgreSQL may number the
    rows of one set-based insert, such as the planner's, in another order each run.)"""
    columns = {m.__table__.name: [c.name for c in m.__table__.columns] for m in HISTORY}
    named = {
        name: [dict(zip(columns[name], row, strict=False)) for row in rows]
        for name, rows in tables.items()
    }
    experiences = {
        e["id"]: (e["customer_id"], e["category"], e["due_on"], e["origin"], e["created_at"])
        for e in named["experience"]
    }
    callbacks = {c["id"]: (c["policy_id"], c["maturity_date"]) for c in named["maturity_callback"]}
    canonical = {}
    for name, rows in named.items():
        out = []
        for row in rows:
            row = {k: v for k, v in row.items() if k not in ("id", "provider_message_id")}
            if "experience_id" in row:
                row["experience_id"] = experiences.get(row["experience_id"])
            if name == "audit_log" and row["entity"] == "experience":
                row["entity_id"] = experiences[row["entity_id"]]
            if name == "audit_log" and row["entity"] == "maturity_callback":
                row["entity_id"] = callbacks[row["entity_id"]]
            if name == "audit_log" and (found := EXPERIENCE_REASON.fullmatch(row["reason"] or "")):
                row["reason"] = experiences[int(found[1])]
            if name in ("notification", "outbox_message"):
                # Keys name the experience by id; the SMS template rotates by it.
                for derived in ("idempotency_key", "template_key", "body"):
                    row.pop(derived, None)
            out.append(repr(sorted(row.items())))
        canonical[name] = sorted(out)
    return canonical


def simulate(seed: int = 5, customers: int = 40):
    return run.simulate(1, seed, customers=customers, start=START, today=TODAY)


@pytest.fixture
def sim_app(app_factory, tmp_path):
    app = app_factory(
        CRM_SMS_CONSOLE_PATH=str(tmp_path / "sms.jsonl"),
        CRM_MAIL_CONSOLE_PATH=str(tmp_path / "mail.jsonl"),
    )
    with app.app_context():
        yield app


def test_one_seed_gives_one_history_and_it_has_the_shape_of_real_use(sim_app, tmp_path):
    summary = simulate()
    first = snapshot()
    empty_tables()
    (tmp_path / "sms.jsonl").unlink()
    simulate()
    second = snapshot()
    assert by_content(second) == by_content(first)
    if db.engine.dialect.name == "sqlite":
        assert second == first  # numbered alike too

    assert summary.days == 31 and summary.end == TODAY - timedelta(days=1)
    assert summary.counts["experiences_recorded"] > 20 and summary.counts["sms_sent"] > 100

    # Moves, each with its cause; a move by an experience names a recorded one.
    events = db.session.scalars(sa.select(QuadrantEvent).order_by(QuadrantEvent.id)).all()
    moves = [e for e in events if e.from_quadrant is not None]
    causes = Counter(e.cause for e in moves)
    assert causes[MoveCause.EXPERIENCE] >= 1
    assert set(causes) <= set(MoveCause)
    for event in moves:
        if event.cause == MoveCause.EXPERIENCE:
            assert event.experience.recorded_at is not None
        assert event.actor_id is not None  # staff did it, and it is attributed
    # Each customer's chain of events holds together: from = the previous to.
    last: dict[int, str] = {}
    for event in events:
        assert event.from_quadrant == last.get(event.customer_id)
        last[event.customer_id] = event.to_quadrant
    current = dict(db.session.execute(sa.select(Customer.id, Customer.quadrant)).all())
    assert last == current

    # Experiences recorded with responses and costs near the plan; SMS closed by dispatch.
    done = db.session.scalars(
        sa.select(Experience).where(
            Experience.status == ExperienceStatus.DONE, Experience.category != Touchpoint.ROUTINE
        )
    ).all()
    assert done and all(e.response is not None and e.recorded_by_id for e in done)
    assert all(abs(e.actual_cost - e.planned_cost) <= e.planned_cost / 2 for e in done)
    assert db.session.scalar(
        sa.select(sa.func.count()).where(OutboxMessage.status == OutboxStatus.SENT)
    ) == len((tmp_path / "sms.jsonl").read_text(encoding="utf-8").splitlines())
    sent = json.loads((tmp_path / "sms.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert sent["to"].startswith("+86")

    # Call-backs recorded within the quota, complaints opened and answered.
    recorded = db.session.scalars(
        sa.select(MaturityCallback).where(MaturityCallback.recorded_at.is_not(None))
    ).all()
    assert recorded and all(c.intent is not None and c.experience_id for c in recorded)
    per_day = Counter((c.recorded_by_id, c.recorded_on) for c in recorded)
    assert max(per_day.values()) <= sim_app.config["CRM_CALLBACK_DAILY_QUOTA"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Complaint)) > 0

    # Everything happened inside the simulated month, in the business's days.
    first_instant = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)  # 00:00 on 2 March in Shanghai
    last_instant = datetime(2026, 4, 1, 16, 0, tzinfo=UTC)
    times = [e.at for e in events] + [e.recorded_at for e in done]
    assert all(first_instant <= t < last_instant for t in times)


def test_a_database_with_data_is_refused_and_so_is_a_period_in_the_future(
    sim_app, world, monkeypatch
):
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    runner = sim_app.test_cli_runner()
    result = runner.invoke(args=["crm", "simulate", "--months", "1", "--customers", "5"])
    assert result.exit_code == 1
    assert "already has data" in result.output
    empty_tables()
    tomorrow = (clock.local_today() + timedelta(days=1)).isoformat()
    result = runner.invoke(args=["crm", "simulate", "--start", tomorrow, "--customers", "5"])
    assert result.exit_code == 1
    assert "after today" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 0


def test_the_command_simulates_and_says_what_happened(sim_app, monkeypatch):
    monkeypatch.setenv("LANG", "en_US.UTF-8")  # the CLI speaks the shell's language
    result = sim_app.test_cli_runner().invoke(
        args=["crm", "simulate", "--months", "1", "--customers", "8", "--seed", "9"]
    )
    assert result.exit_code == 0, result.output
    assert "over 8 customers" in result.output
    assert "SMS sent:" in result.output
    yesterday = clock.local_today() - timedelta(days=1)
    assert f"to {yesterday.isoformat()})" in result.output
