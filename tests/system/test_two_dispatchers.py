"""Shows it (outreach): two dispatchers started at the same moment on one database send each
customer exactly as many marketing SMS as the weekly cap allows: none twice, none lost, none
over the cap and none held back that the cap allows.

Each customer has three marketing SMS due at once and the cap is two, so every customer's
third message must wait a week, and the first two must go now, whichever dispatcher claims
them: the cap decision of one dispatcher must see what the other has decided. The queue is
in customer order and the batches are not a multiple of three, so nearly every batch ends
inside a customer's messages and the rest of them goes to the other dispatcher at the same
moment. Two real processes (tests/support/dispatch_worker.py) dispatch into the console
provider's file, pausing a little around each send so that their batches overlap; both
build their app first and are released together. Three rounds, each with another batch
size, on the same messages set back to queued. It runs on both backends: PostgreSQL, where
claims truly overlap, and SQLite, where they take turns at the writer's lock.
"""

from __future__ import annotations

import multiprocessing
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from crm import create_app
from crm.extensions import db
from crm.models import Branch, Experience, OutboxMessage
from crm.models.enums import (
    BranchStage,
    ExperienceStatus,
    OutboxStatus,
    PlanOrigin,
    Role,
    Touchpoint,
)
from crm.providers.console import ConsoleProvider
from crm.services.outreach.enqueue import enqueue_due
from tests.support import dispatch_worker
from tests.support.databases import migrate
from tests.support.factories import make_customer, make_staff

CUSTOMERS = 700
DUE_EACH = 3
CAP = 2  # CRM_SMS_WEEKLY_CAP as configured
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, inside the window
TODAY = NOW.date()
BATCHES = (7, 10, 20)  # one round each; none a multiple of DUE_EACH
SEND_PAUSE = 0.001  # up to this long before and after each send


@pytest.fixture
def dispatch_url(backend, request, tmp_path):
    """An empty SQLite file, or an empty database of its own on the suite's server."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'two.sqlite3'}"
        return
    server = request.getfixturevalue("pg_server")
    admin = sa.create_engine(server.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql("DROP DATABASE IF EXISTS crm_two_dispatchers")
        conn.exec_driver_sql("CREATE DATABASE crm_two_dispatchers")
    yield server.url.rsplit("/", 1)[0] + "/crm_two_dispatchers"
    with admin.connect() as conn:
        conn.exec_driver_sql("DROP DATABASE IF EXISTS crm_two_dispatchers WITH (FORCE)")
    admin.dispose()


def queue_messages() -> int:
    """Customers who agreed to SMS, three routine contacts each (due today and the two days
    before), queued as messages in customer order."""
    branch = Branch(name="城东支行", stage=BranchStage.MATURE)
    db.session.add(branch)
    owner = make_staff("alice", Role.STAFF, branch)
    for i in range(CUSTOMERS):
        customer = make_customer(
            owner,
            f"客户{i:03d}",
            f"+86139{i:08d}",
            sms_consent=True,
            sms_consent_at=NOW - timedelta(days=30),
        )
        for days_ago in range(DUE_EACH):
            db.session.add(
                Experience(
                    customer=customer,
                    category=Touchpoint.ROUTINE,
                    status=ExperienceStatus.PLANNED,
                    origin=PlanOrigin.CADENCE,
                    due_on=TODAY - timedelta(days=days_ago),
                    planned_cost=Decimal("0.10"),
                )
            )
    db.session.commit()
    return enqueue_due(TODAY, NOW)


def queue_again() -> None:
    """Every message queued and every contact planned again, as before the first round."""
    db.session.execute(
        sa.update(OutboxMessage).values(
            status=OutboxStatus.QUEUED,
            not_before=NOW,
            attempts=0,
            claimed_at=None,
            sent_at=None,
            provider=None,
            provider_message_id=None,
            error=None,
        )
    )
    db.session.execute(
        sa.update(Experience).values(
            status=ExperienceStatus.PLANNED, held_on=None, actual_cost=None
        )
    )
    db.session.commit()


def dispatch_together(url: str, console: Path, batch: int) -> list[dict]:
    """Two dispatcher processes, each released once both have built their app; their
    summaries."""
    context = multiprocessing.get_context("spawn")
    workers = []
    for seed in range(2):
        settings = {
            "CRM_DATABASE_URL": url,
            "CRM_SMS_CONSOLE_PATH": str(console),
            "CRM_DISPATCH_NOW": NOW.isoformat(),
            "CRM_DISPATCH_BATCH": str(batch),
            "CRM_TEST_SEND_PAUSE": str(SEND_PAUSE),
            "CRM_TEST_SEED": str(seed),
        }
        ready_in, ready_out = context.Pipe(duplex=False)
        go_in, go_out = context.Pipe(duplex=False)
        results_in, results_out = context.Pipe(duplex=False)
        process = context.Process(
            target=_run_and_report, args=(settings, ready_out, go_in, results_out), daemon=True
        )
        process.start()
        for end in (ready_out, go_in, results_out):
            end.close()
        workers.append((process, ready_in, go_out, results_in))
    try:
        for _, ready, _, _ in workers:
            assert ready.poll(120), "a dispatcher did not come up"
            ready.recv_bytes()
        for _, _, go, _ in workers:  # the barrier: both are waiting, both go now
            go.send_bytes(b"go")
        summaries = []
        for process, _, _, results in workers:
            assert results.poll(120), "a dispatcher did not finish"
            summaries.append(results.recv())
            process.join(30)
            assert process.exitcode == 0
    finally:
        for process, _, go, _ in workers:
            go.close()
            if process.is_alive():
                process.kill()
                process.join(30)
    return summaries


def _run_and_report(settings, ready, go, results) -> None:
    results.send(dispatch_worker.run(settings, ready, go))
    results.close()


def test_two_dispatchers_meet_the_weekly_cap_exactly(dispatch_url, tmp_path):
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": dispatch_url})
    assert app.config["CRM_SMS_WEEKLY_CAP"] == CAP
    migrate(dispatch_url)
    with app.app_context():
        assert queue_messages() == CUSTOMERS * DUE_EACH
        phones = {m.id: m.recipient for m in db.session.scalars(sa.select(OutboxMessage))}
        db.session.remove()
        for number, batch in enumerate(BATCHES, 1):
            if number > 1:
                queue_again()
            console = tmp_path / f"sms-{number}.jsonl"
            started = time.monotonic()
            summaries = dispatch_together(dispatch_url, console, batch)
            took = time.monotonic() - started
            lines = ConsoleProvider(console).sent()
            messages = list(db.session.scalars(sa.select(OutboxMessage)))
            experiences = Counter(db.session.scalars(sa.select(Experience.status)))
            db.session.remove()

            sent_per_key = Counter(line["key"] for line in lines)
            per_customer = Counter(line["to"] for line in lines)
            statuses = Counter(m.status for m in messages)
            due = len(messages)
            under = sum(per_customer[phone] < CAP for phone in set(phones.values()))
            print(
                f"round {number} (batch {batch}): {due} due, {len(lines)} sent "
                f"({' + '.join(str(s['sent']) for s in summaries)}), "
                f"{sum(n - 1 for n in sent_per_key.values())} twice, "
                f"{due - statuses[OutboxStatus.SENT] - statuses[OutboxStatus.QUEUED]} lost, "
                f"{statuses[OutboxStatus.QUEUED]} deferred; "
                f"customers under the cap: {under}"
                f", over it: {sum(n > CAP for n in per_customer.values())}; {took:.1f}s"
            )

            # None twice.
            assert [key for key, n in sent_per_key.items() if n > 1] == []
            # The cap met exactly: every customer got two, now.
            assert set(per_customer) == set(phones.values())
            assert set(per_customer.values()) == {CAP}
            # None lost: each message sent (in the file under the id recorded) or queued
            # for when the week is over; nothing in flight, failed or skipped.
            assert statuses == {
                OutboxStatus.SENT: CUSTOMERS * CAP,
                OutboxStatus.QUEUED: CUSTOMERS * (DUE_EACH - CAP),
            }
            line_for = {line["key"]: line for line in lines}
            for message in messages:
                if message.status == OutboxStatus.SENT:
                    line = line_for[message.idempotency_key]
                    assert (line["id"], line["to"]) == (
                        message.provider_message_id,
                        phones[message.id],
                    )
                else:
                    assert message.idempotency_key not in line_for
                    assert message.not_before == NOW + timedelta(days=7)
            assert experiences == {
                ExperienceStatus.DONE: CUSTOMERS * CAP,
                ExperienceStatus.PLANNED: CUSTOMERS * (DUE_EACH - CAP),
            }
            assert sum(s["sent"] for s in summaries) == CUSTOMERS * CAP
            assert sum(s["deferred"] for s in summaries) == CUSTOMERS * (DUE_EACH - CAP)
            # Both dispatchers sent a fair share: they ran at the same time.
            assert min(s["sent"] for s in summaries) >= CUSTOMERS * CAP // 10, summaries
        db.engine.dispose()
