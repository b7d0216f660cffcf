"""Shows it (outreach): a dispatcher killed with SIGKILL at random points, 100 times, and
restarted, sends every planned SMS exactly once: none twice, none lost.

A real process dispatches (tests/support/dispatch_worker.py) into the console provider's
file, pausing a random while before and after each send so that a kill often lands inside
the two windows that matter: after "sending" is committed and before the provider has the
message, and after the provider has it and before "sent" is committed. The test kills it
after a random delay, looks at what it left in "sending", and starts the next one, whose
clock is a minute later. A message left in "sending" is reconciled by the second restart
after the kill (``CRM_SENDING_STALE_SECONDS`` is two minutes; the first restart must leave
it alone, as it would another live dispatcher's). After the kills, one last dispatcher
(``python -m tests.support.dispatch_worker``, staleness 0) settles the rest.

Every message must end "sent" or, as the issue allows, "reconcile" (marked for a person to
settle); nothing may stay queued or in flight, or be given up. The console provider can
always say whether it has a message, so a message marked for reconciliation can only be
one the provider never had.

``CRM_CRASH_SEED`` replays a run (the seed is printed; timing still varies a little).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from multiprocessing import forkserver
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

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
from tests.support.factories import make_customer, make_staff

ROOT = Path(__file__).resolve().parents[2]
SEED = int(os.environ.get("CRM_CRASH_SEED", "20261123"))
KILLS = 100
# Two messages each (due today and yesterday): at the weekly cap of 2, never over it. With
# the pauses below, 100 kills never leave time to send them all, even on an idle machine.
CUSTOMERS = 200
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, inside the window
TODAY = NOW.date()
BATCH = 3
STALE_SECONDS = 120
SEND_PAUSE = 0.05  # up to this long before and after each send
KILL_AFTER = (0.05, 0.3)  # seconds after the worker starts dispatching


@pytest.fixture
def crash_url(backend, request, tmp_path):
    """An empty SQLite file, or an empty database of its own on the suite's server."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'crash.sqlite3'}"
        return
    server = request.getfixturevalue("pg_server")
    admin = sa.create_engine(server.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql("DROP DATABASE IF EXISTS crm_dispatch_crash")
        conn.exec_driver_sql("CREATE DATABASE crm_dispatch_crash")
    yield server.url.rsplit("/", 1)[0] + "/crm_dispatch_crash"
    with admin.connect() as conn:
        conn.exec_driver_sql("DROP DATABASE IF EXISTS crm_dispatch_crash WITH (FORCE)")
    admin.dispose()


@pytest.fixture(scope="module")
def processes():
    """Worker processes forked from a server that has imported the app once."""
    context = multiprocessing.get_context("forkserver")
    # A worker also imports the database driver, and re-runs the parent's main script
    # (pytest's, which imports pytest): done once in the server instead.
    context.set_forkserver_preload(
        [dispatch_worker.__name__, "psycopg", "sqlalchemy.dialects.postgresql.psycopg", "pytest"]
    )
    # The server imports the worker module by name before it knows the test's sys.path.
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), old]))
    try:
        forkserver.ensure_running()
    finally:
        if old is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = old
    return context


def queue_messages() -> int:
    """Customers who agreed to SMS, two routine contacts each, queued as messages."""
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
        for days_ago in (0, 1):
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


def console_lines(path: Path) -> list[dict]:
    """The messages in the file, as the provider reads them back (a fragment left by a kill
    is no message)."""
    return ConsoleProvider(path).sent()


class Worker:
    """A dispatcher process, its app built ahead; ``start`` lets it dispatch."""

    def __init__(self, processes, settings: dict[str, str]):
        self.ready, ready = processes.Pipe(duplex=False)
        go, self.go = processes.Pipe(duplex=False)
        self.process = processes.Process(
            target=dispatch_worker.run, args=(settings, ready, go), daemon=True
        )
        self.process.start()
        ready.close()
        go.close()

    def start(self) -> None:
        assert self.ready.poll(60), "the worker did not come up"
        self.ready.recv_bytes()
        self.go.send_bytes(b"go")

    def kill_after(self, delay: float) -> bool:
        """SIGKILL after ``delay`` seconds; False if the worker had finished by then."""
        time.sleep(delay)
        if self.process.is_alive():
            self.process.kill()
        self.process.join(60)
        assert self.process.exitcode in (0, -signal.SIGKILL), (
            f"the worker failed (exit code {self.process.exitcode}; seed {SEED})"
        )
        return self.process.exitcode == -signal.SIGKILL

    def discard(self) -> None:
        """Let a worker that was never started exit without dispatching."""
        self.go.close()
        self.process.join(60)


def worker_settings(url: str, console: Path, now: datetime, stale: int) -> dict[str, str]:
    return {
        "CRM_DATABASE_URL": url,
        "CRM_SMS_CONSOLE_PATH": str(console),
        "CRM_SENDING_STALE_SECONDS": str(stale),
        "CRM_DISPATCH_NOW": now.isoformat(),
        "CRM_DISPATCH_BATCH": str(BATCH),
    }


def test_killed_dispatchers_send_every_message_once(crash_url, processes, tmp_path):
    rng = random.Random(SEED)
    print(f"CRM_CRASH_SEED={SEED}")
    console = tmp_path / "sms.jsonl"

    def killable(run: int) -> Worker:
        """The dispatcher of the run-th restart: its clock a minute after the last one's."""
        settings = worker_settings(crash_url, console, NOW + timedelta(minutes=run), STALE_SECONDS)
        settings["CRM_TEST_SEND_PAUSE"] = str(SEND_PAUSE)
        settings["CRM_TEST_SEED"] = str(rng.getrandbits(32))
        return Worker(processes, settings)

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": crash_url})
    with app.app_context():
        upgrade()
        total = queue_messages()
        assert total == 2 * CUSTOMERS

        def unsettled() -> int:
            count = db.session.scalar(
                sa.select(sa.func.count()).where(
                    OutboxMessage.status.in_([OutboxStatus.QUEUED, OutboxStatus.SENDING])
                )
            )
            db.session.remove()
            return count

        runs = kills = mid_flight = 0
        # What a kill left in "sending": messages the provider had (its id and the attempts
        # then) and messages it had not (the attempts then).
        delivered: dict[int, tuple[str, int]] = {}
        undelivered: dict[int, int] = {}
        started = time.monotonic()
        upcoming = killable(runs)
        try:
            while kills < KILLS and runs < 3 * KILLS and unsettled():
                now = NOW + timedelta(minutes=runs)
                worker = upcoming
                worker.start()
                runs += 1
                upcoming = killable(runs)  # builds its app while this one dispatches
                if not worker.kill_after(rng.uniform(*KILL_AFTER)):
                    continue  # it finished before the kill came
                kills += 1
                left = db.session.execute(
                    sa.select(
                        OutboxMessage.id, OutboxMessage.idempotency_key, OutboxMessage.attempts
                    ).where(
                        OutboxMessage.status == OutboxStatus.SENDING,
                        OutboxMessage.claimed_at == now,
                    )
                ).all()
                db.session.remove()
                if left:
                    mid_flight += 1
                in_file = {line["key"]: line["id"] for line in console_lines(console)}
                for message_id, key, attempts in left:
                    if key in in_file:
                        delivered[message_id] = (in_file[key], attempts)
                    else:
                        undelivered[message_id] = attempts
        finally:
            upcoming.discard()
        killing = time.monotonic() - started

        # The last dispatcher, started as a command, settles whatever is still open.
        final = subprocess.run(
            [sys.executable, "-m", "tests.support.dispatch_worker"],
            env={
                **os.environ,
                **worker_settings(crash_url, console, NOW + timedelta(minutes=runs + 1), 0),
            },
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert final.returncode == 0, final.stderr
        last = json.loads(final.stdout.splitlines()[-1])
        db.session.expire_all()
        messages = list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))
        experiences = Counter(db.session.scalars(sa.select(Experience.status)))
        db.session.remove()
        db.engine.dispose()
    print(
        f"seed {SEED}: {runs} runs, {kills} kills, {mid_flight} of them left messages in "
        f"'sending' ({len(delivered)} the provider had, {len(undelivered)} it had not); "
        f"{killing:.1f}s; the last dispatcher: {last}; "
        f"in the end: {dict(Counter(m.status.value for m in messages))}"
    )

    lines = console_lines(console)
    sent_per_key = Counter(line["key"] for line in lines)
    line_for = {line["key"]: line for line in lines}
    # None twice.
    assert [key for key, n in sent_per_key.items() if n > 1] == [], f"seed {SEED}"
    # None lost: each message sent, or marked for a person to reconcile; nothing left
    # queued or in flight, nothing given up.
    open_or_failed = [
        m for m in messages if m.status not in (OutboxStatus.SENT, OutboxStatus.RECONCILE)
    ]
    assert open_or_failed == [], f"seed {SEED}: " + "; ".join(
        f"{m.idempotency_key} ended {m.status.value} after {m.attempts} attempts"
        f"{'' if m.idempotency_key in sent_per_key else ', never sent'}"
        for m in open_or_failed
    )
    # Each sent message is in the file once, under the id the provider gave it; the file
    # holds nothing else. The console provider always answers a lookup, so a message
    # marked for reconciliation can only be one it never had.
    sent = [m for m in messages if m.status == OutboxStatus.SENT]
    for message in sent:
        line = line_for[message.idempotency_key]
        assert (line["id"], line["to"]) == (message.provider_message_id, message.recipient)
    assert len(sent_per_key) == len(sent)
    assert experiences[ExperienceStatus.DONE] == len(sent)
    assert max(Counter(line["to"] for line in lines).values()) <= 2  # the weekly cap
    # The kills landed inside both windows, and each case was settled the right way.
    assert kills == KILLS, f"seed {SEED}: all settled after {kills} kills"
    assert delivered and undelivered, (
        f"seed {SEED}: no kill landed between commit and send, or between send and commit"
    )
    by_id = {m.id: m for m in messages}
    for message_id, (provider_id, attempts) in delivered.items():
        # Recorded as sent from the provider's answer, never claimed again.
        message = by_id[message_id]
        assert (message.provider_message_id, message.attempts) == (provider_id, attempts)
    for message_id, attempts in undelivered.items():
        # The provider never had it: queued again and sent by a later dispatcher (or left
        # to a person).
        message = by_id[message_id]
        assert message.attempts > attempts or message.status == OutboxStatus.RECONCILE
