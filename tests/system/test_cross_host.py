"""Shows it across hosts: two web hosts and two scheduler hosts on one PostgreSQL host, the
active scheduler's host cut off the network in the middle of a dispatch.

Each host is a network namespace on a private LAN (``tests/support/netns.py``, root only):

- ``db``: PostgreSQL, listening on the LAN;
- ``web1``, ``web2``: gunicorn serving the app in production settings behind a reverse
  proxy (``CRM_PROXY_HOPS=1``, one secret key); two members of staff log in through the
  proxy and then read and revise dossiers, each request going to one host or the other;
- ``sched-a``, ``sched-b``: ``flask crm scheduler`` each, with the lease shortened to
  seconds; a started first and is active, b stands by.

600 customers agreed to SMS and have two routine contacts due (yesterday and today), every
tenth a third one (held back a week by the weekly cap of 2): 1,260 messages, more than one
dispatch batch (1,000). Host a's console provider writes into a pipe the test reads: after
100 messages the test stops reading, so that a is held in the middle of its batch, and cuts
a's link (``ip link set eth0 down`` inside it). Then it reads on, as a provider a can still
reach would. The outreach job is made due again (the minute coming round, as a later clock
would see it). b must take over once the lease lapses and send what a had not claimed. Then
a's link comes back: a must find its lease taken, stand by, and record the batch it had
sent meanwhile, so that every message ends settled.

Checks: b took over within lease + poll; no message went out twice (idempotency keys and
provider ids across both hosts' console files); none was lost (each sent once, or queued
for after the cap); every write the web hosts acknowledged is in the database; no request
failed. The figures are printed.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import sys
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from crm import create_app
from crm.core.clock import local_today
from crm.extensions import db
from crm.models import Branch, Customer, Experience, JobRun, OutboxMessage
from crm.models.enums import (
    BranchStage,
    ExperienceStatus,
    OutboxStatus,
    PlanOrigin,
    Role,
    Touchpoint,
)
from crm.providers.console import ConsoleProvider
from crm.scheduler import runner
from tests.support import netns
from tests.support.databases import migrate
from tests.support.factories import PASSWORD, make_customer, make_staff
from tests.support.hosts import HostProcess, PacedPipe
from tests.support.pgserver import PostgresServer
from tests.support.proxied_browser import Staffer

ROOT = Path(__file__).resolve().parents[2]
LEASE, RENEW, POLL = 3.0, 1.0, 0.5
CUSTOMERS = 600
THIRD_EVERY = 10
MESSAGES = CUSTOMERS * 2 + CUSTOMERS // THIRD_EVERY
HELD_AT = 100
STAFF = ("wang", "li")
EDITED = 15  # customers each member of staff revises, over and over
ROUNDS = 60  # at least, each: a dossier, its edit form, a revision saved
WEB_PORT = 8000


@pytest.fixture
def lan():
    reason = netns.unavailable()
    if reason:
        pytest.skip(f"cannot make the hosts: {reason}")
    made = netns.Lan().open()
    yield made
    made.close()


@pytest.fixture
def db_host(lan):
    """PostgreSQL on host ``db``, trusting the LAN; its URL."""
    address = lan.add("db")
    server = PostgresServer(host=address, netns=lan.namespace("db"), clients=str(lan.subnet))
    server.start()
    yield server.url
    server.stop()


@pytest.fixture
def processes():
    started: list[HostProcess] = []
    yield started
    for process in started:
        process.stop(signal.SIGKILL)


def outreach_due_now(app) -> None:
    """Register the jobs (once) and make the outreach job due now, in the job store."""
    scheduler = runner.build_scheduler(app)
    scheduler.start(paused=True)
    try:
        runner.register_jobs(scheduler)
        scheduler.modify_job("outreach", next_run_time=datetime.now(UTC))
    finally:
        runner.stop_scheduler(scheduler)


def open_bank() -> dict[str, list[int]]:
    """Two members of staff and their customers, SMS due; the customers each will revise."""
    branch = Branch(name="城东支行", stage=BranchStage.MATURE)
    db.session.add(branch)
    owners = [make_staff(name, Role.STAFF, branch) for name in STAFF]
    today = local_today()
    customers = []
    for i in range(CUSTOMERS):
        customer = make_customer(
            owners[i % len(owners)],
            f"客户{i:03d}",
            f"+86139{i:08d}",
            sms_consent=True,
            sms_consent_at=datetime.now(UTC) - timedelta(days=30),
        )
        customers.append(customer)
        for days_ago in (2, 1, 0) if i % THIRD_EVERY == 0 else (1, 0):
            db.session.add(
                Experience(
                    customer=customer,
                    category=Touchpoint.ROUTINE,
                    status=ExperienceStatus.PLANNED,
                    origin=PlanOrigin.CADENCE,
                    due_on=today - timedelta(days=days_ago),
                    planned_cost=Decimal("0.10"),
                )
            )
    db.session.commit()
    return {
        owner.username: [c.id for c in customers if c.owner_id == owner.id][:EDITED]
        for owner in owners
    }


def wait(condition, what: str, timeout: float, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(every)


def healthy(address: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://{address}:{WEB_PORT}/healthz", timeout=2) as answer:
            return answer.status == 200 and b'"database":"ok"' in answer.read()
    except OSError:
        return False


def finished_run(holder: str):
    """The holder's outreach run, once it has finished."""

    def look():
        run = db.session.scalar(
            sa.select(JobRun).where(JobRun.job_id == "outreach", JobRun.holder == holder)
        )
        db.session.remove()
        return run if run is not None and run.finished_at is not None else None

    return look


def statuses() -> dict[OutboxStatus, set[str]]:
    """The customers' messages by status (their idempotency keys)."""
    found: dict[OutboxStatus, set[str]] = {status: set() for status in OutboxStatus}
    for status, key in db.session.execute(
        sa.select(OutboxMessage.status, OutboxMessage.idempotency_key).where(
            OutboxMessage.customer_id.is_not(None)
        )
    ):
        found[status].add(key)
    db.session.remove()
    return found


def test_the_standby_host_takes_over_and_nothing_is_sent_twice_or_lost(
    lan, db_host, processes, tmp_path
):
    started = time.monotonic()
    migrate(db_host)
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": db_host})
    ctx = app.app_context()
    ctx.push()
    staffers: list[Staffer] = []
    pipe = None
    try:
        edited = open_bank()
        outreach_due_now(app)
        batch = app.config["CRM_DISPATCH_BATCH"]
        assert HELD_AT < batch < MESSAGES, "a's batch must leave messages for b"
        env = os.environ | {
            "CRM_CONFIG": "production",
            "CRM_SECRET_KEY": secrets.token_hex(32),
            "CRM_DATABASE_URL": db_host,
            "CRM_PROXY_HOPS": "1",
            "CRM_SCHEDULER_LEASE_SECONDS": str(LEASE),
            "CRM_SCHEDULER_RENEW_SECONDS": str(RENEW),
            "CRM_SCHEDULER_STANDBY_POLL_SECONDS": str(POLL),
            # Any hour of the test's day is inside the sending window.
            "CRM_SMS_WINDOW_START": "00:00",
            "CRM_SMS_WINDOW_END": "23:59:59.999999",
            "LANG": "C.UTF-8",
        }
        webs = [lan.add("web1"), lan.add("web2")]
        for name, address in zip(("web1", "web2"), webs, strict=True):
            gunicorn = [sys.executable, "-m", "gunicorn", "--bind", f"{address}:{WEB_PORT}"]
            gunicorn += ["--workers", "2", "--access-logfile", "-", "wsgi:app"]
            processes.append(HostProcess(lan, name, gunicorn, env, tmp_path))
        scheduler = [sys.executable, "-m", "flask", "--app", "wsgi", "crm", "scheduler"]
        lan.add("sched-a")
        lan.add("sched-b")
        pipe = PacedPipe(tmp_path / "sched-a.sms.pipe", tmp_path / "sched-a.sms.jsonl", HELD_AT)
        a = HostProcess(
            lan, "sched-a", scheduler, env | {"CRM_SMS_CONSOLE_PATH": str(pipe.fifo)}, tmp_path
        )
        processes.append(a)
        pipe.start()
        for address in webs:
            wait(lambda address=address: healthy(address), f"web host {address} healthy", 90)
        upstreams = [(address, WEB_PORT) for address in webs]
        # Each browser's address as the proxy reports it (documentation addresses: headers
        # only, nothing is sent to them).
        staffers += [
            Staffer(name, PASSWORD, edited[name], upstreams, f"203.0.113.{10 + n}", "crm.bank.test")
            for n, name in enumerate(STAFF)
        ]
        for staffer in staffers:
            staffer.start()

        holder_a = a.wait_for(r"scheduler active as (\S+)", 60)[1]
        b_console = tmp_path / "sched-b.sms.jsonl"
        b = HostProcess(
            lan, "sched-b", scheduler, env | {"CRM_SMS_CONSOLE_PATH": str(b_console)}, tmp_path
        )
        processes.append(b)
        b.wait_for(rf"another scheduler \({re.escape(holder_a)}\) holds the lease", 60)
        wait(pipe.held.is_set, "host a's provider holding a mid-batch", 60)
        # a is in the middle of its batch: claimed ("sending"), some with the provider.
        before_cut = statuses()
        in_flight = before_cut[OutboxStatus.SENDING]
        taken = pipe.taken
        assert HELD_AT <= taken < len(in_flight) <= batch
        assert not before_cut[OutboxStatus.SENT]

        lan.cut("sched-a")
        cut_at = time.monotonic()
        outreach_due_now(app)
        pipe.release()
        holder_b = b.wait_for(r"scheduler active as (\S+)", LEASE + POLL + 15)[1]
        takeover = time.monotonic() - cut_at
        run_b = wait(finished_run(holder_b), "b's outreach run", 75)
        during = {status: keys for status, keys in statuses().items() if keys}
        edits_before_heal = sum(len(s.acknowledged) for s in staffers)
        lan.heal("sched-a")
        healed_at = time.monotonic()
        a.wait_for(rf"(?s)another scheduler \({re.escape(holder_b)}\) holds the lease", 90)
        run_a = wait(finished_run(holder_a), "a's outreach run", 60)
        rejoined = time.monotonic() - healed_at
        wait(
            lambda: all(s.rounds_done >= ROUNDS or not s.is_alive() for s in staffers),
            f"{ROUNDS} rounds of each member of staff",
            90,
        )
        for staffer in staffers:
            staffer.stop.set()
        for staffer in staffers:
            staffer.join(60)
        for process in processes:
            process.stop(signal.SIGTERM)
        pipe.stop.set()
        pipe.join(30)

        messages = list(db.session.scalars(sa.select(OutboxMessage)))
        experiences = Counter(db.session.scalars(sa.select(Experience.status)))
        notes = dict(db.session.execute(sa.select(Customer.id, Customer.notes)).all())
        audited = {
            (entity_id, value)
            for entity_id, value in db.session.execute(
                sa.text(
                    "SELECT entity_id, new_value FROM audit_log "
                    "WHERE entity = 'customer' AND field = 'notes'"
                )
            )
        }
    finally:
        for staffer in staffers:
            staffer.stop.set()
        if pipe is not None:
            pipe.stop.set()
        db.session.remove()
        db.engine.dispose()
        ctx.pop()

    sent_by = {
        "sched-a": ConsoleProvider(pipe.copy).sent(),
        "sched-b": ConsoleProvider(b_console).sent(),
    }
    lines = [line for host_lines in sent_by.values() for line in host_lines]
    twice = [key for key, n in Counter(line["key"] for line in lines).items() if n > 1]
    ids_twice = [i for i, n in Counter(line["id"] for line in lines).items() if n > 1]
    by_key = {line["key"]: line for line in lines}
    sent = [m for m in messages if m.status == OutboxStatus.SENT]
    deferred = [m for m in messages if m.status == OutboxStatus.QUEUED]
    lost = [
        m
        for m in messages
        if not (
            (m.status == OutboxStatus.SENT and m.idempotency_key in by_key)
            or (m.status == OutboxStatus.QUEUED and m.not_before > datetime.now(UTC))
        )
    ]
    requests = Counter()
    for staffer in staffers:
        requests.update(staffer.answers)
    per_host = Counter()
    for (upstream, _status), n in requests.items():
        per_host[upstream] += n
    acknowledged = [edit for staffer in staffers for edit in staffer.acknowledged]
    latest = {customer_id: marker for customer_id, marker, _ in acknowledged}
    while_cut = sum(1 for _, _, when in acknowledged if cut_at < when < healed_at)
    missing_edits = [(c, m) for c, m, _ in acknowledged if (c, m) not in audited]
    overwritten = [c for c, marker in latest.items() if notes[c] != marker]
    print(
        f"cross-host: {sum(requests.values())} requests "
        f"({', '.join(f'{host} {n}' for host, n in sorted(per_host.items()))}), "
        f"{len(acknowledged)} revisions acknowledged ({while_cut} while sched-a was cut off, "
        f"{len(acknowledged) - edits_before_heal} after the heal); 1 cut-off of sched-a "
        f"when its provider had taken {taken} of the {len(in_flight)} it was sending; b active "
        f"{takeover:.1f}s after the cut; a standing by {rejoined:.1f}s after the heal; "
        f"while a was cut off: {', '.join(f'{k.value} {len(v)}' for k, v in during.items())}; "
        f"SMS sent: sched-a {len(sent_by['sched-a'])}, sched-b {len(sent_by['sched-b'])}; "
        f"{len(deferred)} held back by the weekly cap; duplicates {len(twice)}, "
        f"lost {len(lost)}; {time.monotonic() - started:.0f}s in all"
    )

    # The standby took over once the lease had lapsed, and sent what a had not claimed.
    assert takeover <= LEASE + POLL + 2.5, b.output()
    assert holder_b != holder_a
    assert run_b.ok and run_a.ok, (run_b.summary, run_a.summary)
    assert sent_by["sched-b"], "b sent nothing"
    # a was held, then cut off, in the middle of its batch: what it had claimed stayed
    # "sending" (b left it alone) until a came back and recorded what its provider had taken.
    assert during[OutboxStatus.SENDING] == in_flight
    assert {line["key"] for line in sent_by["sched-a"]} <= in_flight
    assert not in_flight & {line["key"] for line in sent_by["sched-b"]}
    assert "lost its lease" in a.output() or "could not renew its lease" in a.output()
    # None twice, none lost.
    assert twice == [] and ids_twice == []
    assert lost == [], [(m.idempotency_key, m.status.value) for m in lost[:10]]
    for message in sent:
        line = by_key[message.idempotency_key]
        assert (line["id"], line["to"]) == (message.provider_message_id, message.recipient)
    assert len(lines) == len(sent)
    assert len(messages) == MESSAGES
    assert len(deferred) == CUSTOMERS // THIRD_EVERY
    assert max(Counter(line["to"] for line in lines).values()) == 2  # the weekly cap
    assert experiences[ExperienceStatus.DONE] == len(sent)
    # The web hosts: every request answered as a browser expects, every acknowledged
    # revision kept, on both hosts, while the scheduler host was away too.
    failures = [failure for staffer in staffers for failure in staffer.failures]
    assert failures == [], failures[:10]
    assert set(per_host) == {f"{address}:{WEB_PORT}" for address in webs}
    assert while_cut > 0
    assert missing_edits == [] and overwritten == []
    assert all(staffer.logged_in for staffer in staffers)
