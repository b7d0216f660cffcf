"""The scheduler process (`flask crm scheduler`), on SQLite and PostgreSQL.

The process tests run the real command in subprocesses on a migrated database of their own,
with the lease shortened to seconds (lease 3 s, renewal 1 s, standby poll 0.5 s) so that a
takeover takes seconds, not minutes. Downtime is simulated by moving the stored next run
times into the past, as a clock that had moved on would see them.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import pkgutil
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from crm import create_app
from crm.extensions import db
from crm.models import JobRun, SchedulerLease
from crm.models.scheduler import apscheduler_jobs
from crm.scheduler import jobs, runner
from crm.scheduler.lease import Lease

ROOT = Path(__file__).resolve().parents[2]
LEASE, RENEW, POLL = 3.0, 1.0, 0.5
FAST = {
    "CRM_SCHEDULER_LEASE_SECONDS": str(LEASE),
    "CRM_SCHEDULER_RENEW_SECONDS": str(RENEW),
    "CRM_SCHEDULER_STANDBY_POLL_SECONDS": str(POLL),
}
JOB_IDS = sorted(spec.id for spec in jobs.JOBS)
DAILY = sorted(spec.id for spec in jobs.JOBS if isinstance(spec.when, jobs.Cron))


def now() -> datetime:
    return datetime.now(UTC)


# --- databases and processes ---------------------------------------------------------------


def _migrate(url: str) -> None:
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def migrated_template(request, tmp_path_factory):
    """One migrated database per backend, made once, that each test copies."""
    made: dict[str, str] = {}

    def get(backend: str) -> str:
        if backend not in made:
            if backend == "sqlite":
                url = f"sqlite:///{tmp_path_factory.mktemp('scheduler') / 'template.sqlite3'}"
            else:
                server = request.getfixturevalue("pg_server")
                _admin_sql(server.url, "DROP DATABASE IF EXISTS crm_scheduler_template")
                _admin_sql(server.url, "CREATE DATABASE crm_scheduler_template")
                url = server.url.rsplit("/", 1)[0] + "/crm_scheduler_template"
            _migrate(url)
            made[backend] = url
        return made[backend]

    yield get
    if "postgresql" in made:
        server = request.getfixturevalue("pg_server")
        _admin_sql(server.url, "DROP DATABASE IF EXISTS crm_scheduler_template WITH (FORCE)")


def _admin_sql(url: str, statement: str) -> None:
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


@pytest.fixture
def database_url(backend, migrated_template, tmp_path, request):
    """A migrated database of this test's own."""
    template = migrated_template(backend)
    if backend == "sqlite":
        path = tmp_path / "crm.sqlite3"
        shutil.copyfile(template.removeprefix("sqlite:///"), path)
        yield f"sqlite:///{path}"
        return
    name = f"crm_scheduler_{uuid.uuid4().hex[:10]}"
    admin = request.getfixturevalue("pg_server").url
    _admin_sql(admin, f"CREATE DATABASE {name} TEMPLATE crm_scheduler_template")
    yield template.rsplit("/", 1)[0] + f"/{name}"
    _admin_sql(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def local_app(database_url):
    """The app in this test's process, on the test's database (to look and to arrange)."""
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url})
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


class SchedulerProcess:
    """One `flask crm scheduler` process, its output in a file."""

    def __init__(self, url: str, log_path: Path) -> None:
        self.log_path = log_path
        env = os.environ | FAST
        env |= {
            "CRM_CONFIG": "testing",
            "CRM_DATABASE_URL": url,
            "CRM_SMS_CONSOLE_PATH": str(log_path.with_suffix(".sms.jsonl")),
            "LANG": "C.UTF-8",
        }
        self._log = open(log_path, "w")  # noqa: SIM115  (the process writes to it until it ends)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "crm", "scheduler"],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        return self.log_path.read_text()

    def wait_for(self, pattern: str, timeout: float = 30) -> re.Match:
        deadline = time.monotonic() + timeout
        while True:
            found = re.search(pattern, self.output())
            if found:
                return found
            assert self.process.poll() is None, f"scheduler exited:\n{self.output()}"
            assert time.monotonic() < deadline, f"no {pattern!r} in:\n{self.output()}"
            time.sleep(0.1)

    def stop(self, signum: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signum)
        code = self.process.wait(timeout=30)
        self._log.close()
        return code


@pytest.fixture
def start_scheduler(database_url, tmp_path):
    started: list[SchedulerProcess] = []

    def start(name: str) -> SchedulerProcess:
        process = SchedulerProcess(database_url, tmp_path / f"{name}.log")
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop(signal.SIGKILL)


def job_runs(app, since: datetime | None = None) -> list[JobRun]:
    with app.app_context():
        query = sa.select(JobRun).order_by(JobRun.id)
        if since is not None:
            query = query.where(JobRun.started_at >= since)
        runs = list(db.session.scalars(query))
        db.session.remove()
    return runs


def wait_for_runs(app, done, timeout: float = 30) -> list[JobRun]:
    """Wait until ``done(finished runs)`` holds; return the runs."""
    deadline = time.monotonic() + timeout
    while True:
        runs = [r for r in job_runs(app) if r.finished_at is not None]
        if done(runs):
            return runs
        assert time.monotonic() < deadline, [(r.job_id, r.holder) for r in runs]
        time.sleep(0.2)


@contextlib.contextmanager
def job_store(app):
    """The job store through an APScheduler that runs nothing (paused), as the runner makes it."""
    scheduler = runner.build_scheduler(app)
    scheduler.start(paused=True)
    try:
        yield scheduler
    finally:
        runner.stop_scheduler(scheduler)


def move_every_job(app, when: datetime) -> None:
    with job_store(app) as scheduler:
        for job in scheduler.get_jobs():
            scheduler.modify_job(job.id, next_run_time=when)


def stored_next_runs(app) -> dict[str, datetime]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(apscheduler_jobs.c.id, apscheduler_jobs.c.next_run_time)
        )
        found = {job_id: datetime.fromtimestamp(ts, UTC) for job_id, ts in rows}
        db.session.remove()
    return found


# --- the process ---------------------------------------------------------------------------


def test_a_second_scheduler_stands_by_then_takes_over_after_a_crash(local_app, start_scheduler):
    with job_store(local_app) as scheduler:
        runner.register_jobs(scheduler)
    move_every_job(local_app, now() - timedelta(minutes=1))

    first = start_scheduler("first")
    holder = first.wait_for(r"scheduler active as (\S+)")[1]
    wait_for_runs(local_app, lambda runs: sorted(r.job_id for r in runs) == JOB_IDS)
    while not all(when > now() for when in stored_next_runs(local_app).values()):
        time.sleep(0.1)
    time.sleep(0.5)  # the first has settled on its next wake-up, a minute off

    second = start_scheduler("second")
    standby = second.wait_for(
        r"scheduler standby: another scheduler \((\S+)\) holds the lease until (\S+); waiting"
    )
    assert standby[1] == holder
    # Jobs fall due while the first sleeps until that wake-up: the standby leaves them alone.
    move_every_job(local_app, now() - timedelta(minutes=1))
    time.sleep(LEASE)
    runs = job_runs(local_app)
    assert {r.holder for r in runs} == {holder}
    assert sorted(r.job_id for r in runs) == JOB_IDS
    assert "scheduler active" not in second.output()

    first.process.kill()
    killed = time.monotonic()
    successor = second.wait_for(r"scheduler active as (\S+)", timeout=LEASE + POLL + 10)[1]
    assert time.monotonic() - killed <= LEASE + POLL + 2.5, second.output()
    assert successor != holder

    runs = wait_for_runs(local_app, lambda runs: len(runs) == 2 * len(JOB_IDS))
    assert sorted(r.job_id for r in runs if r.holder == successor) == JOB_IDS
    assert all(r.ok for r in runs), [(r.job_id, r.summary) for r in runs]
    assert second.stop() == 0


def test_a_scheduler_that_finds_its_lease_taken_stops_its_jobs_and_stands_by(
    local_app, start_scheduler
):
    scheduler = start_scheduler("only")
    holder = scheduler.wait_for(r"scheduler active as (\S+)")[1]
    scheduler.wait_for(r"job visit_reminders next due")

    # Another process holds the lease now (this one was frozen past its lease, say).
    with local_app.app_context():
        db.session.execute(
            sa.update(SchedulerLease).values(
                holder="elsewhere:1:x", expires_at=now() + timedelta(seconds=LEASE)
            )
        )
        db.session.commit()
    taken = time.monotonic()
    scheduler.wait_for(r"scheduler lost its lease to elsewhere:1:x; stopping its jobs")
    assert time.monotonic() - taken <= RENEW + 2.5
    scheduler.wait_for(r"another scheduler \(elsewhere:1:x\) holds the lease")

    # When that lease lapses, this one takes over again.
    assert len(re.findall(rf"scheduler active as {re.escape(holder)}", scheduler.output())) == 1
    scheduler.wait_for(rf"(?s)elsewhere.*scheduler active as {re.escape(holder)}", timeout=15)
    assert scheduler.stop() == 0


def last_due(job_id: str, since: datetime, until: datetime) -> datetime:
    """When a job missed since ``since`` was last due by ``until``: ``since`` itself, or its
    own daily time if that fell in between (the misses coalesce into the latest)."""
    from zoneinfo import ZoneInfo

    trigger = jobs.spec_for(job_id).when.trigger(ZoneInfo("Asia/Shanghai"))
    following = trigger.get_next_fire_time(None, since + timedelta(microseconds=1))
    return following if following <= until else since


def test_restarted_after_two_hours_down_runs_each_missed_job_once(local_app, start_scheduler):
    first = start_scheduler("first")
    first.wait_for(r"job visit_reminders next due")  # the last job registered
    assert first.stop() == 0
    assert sorted(stored_next_runs(local_app)) == JOB_IDS

    # Down for two hours, from just before every job fell due.
    down_since = now() - timedelta(hours=2)
    move_every_job(local_app, down_since)
    restarted = now()
    second = start_scheduler("second")
    second.wait_for(r"scheduler active as")
    wait_for_runs(local_app, lambda runs: len(runs) >= len(JOB_IDS))
    time.sleep(2 * RENEW)  # room for a second run of anything, were there one

    runs = job_runs(local_app, since=restarted)
    assert Counter(r.job_id for r in runs) == dict.fromkeys(JOB_IDS, 1)
    assert all(r.ok for r in runs), [(r.job_id, r.summary) for r in runs]
    due = {r.job_id: r.scheduled_for for r in runs}
    for job_id in DAILY:  # a daily job runs late, once, for the last time it was due
        expected = last_due(job_id, down_since, restarted)
        assert abs(due[job_id] - expected) < timedelta(milliseconds=1), job_id
    # The minute job missed 120 runs: they collapse into one, the latest.
    assert down_since + timedelta(minutes=119) <= due["outreach"] <= now()
    assert all(when > now() for when in stored_next_runs(local_app).values())
    assert second.stop() == 0


def test_the_web_app_starts_no_scheduler(database_url):
    probe = (
        "import sys, threading\n"
        "from crm import create_app\n"
        "app = create_app('testing', {'SQLALCHEMY_DATABASE_URI': sys.argv[1]})\n"
        "client = app.test_client()\n"
        "assert client.get('/healthz').status_code == 200\n"
        "assert client.get('/login').status_code == 200\n"
        "print(sorted(m for m in sys.modules if m.startswith('apscheduler')))\n"
        "print(sorted(t.name for t in threading.enumerate()))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, database_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    modules, threads = result.stdout.splitlines()
    assert modules == "[]"
    assert "APScheduler" not in threads
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            assert (
                conn.execute(sa.select(sa.func.count()).select_from(apscheduler_jobs)).scalar() == 0
            )
    finally:
        engine.dispose()


# --- registration --------------------------------------------------------------------------


def test_registering_twice_keeps_one_row_per_job_in_the_business_zone(app):
    for _ in range(2):
        with job_store(app) as scheduler:
            runner.register_jobs(scheduler)

    rows = db.session.execute(sa.select(apscheduler_jobs.c.id, apscheduler_jobs.c.job_state)).all()
    assert sorted(job_id for job_id, _ in rows) == JOB_IDS
    for job_id, state in rows:
        job = pickle.loads(state)
        assert str(job["trigger"].timezone) == "Asia/Shanghai"
        assert job["func"] == jobs.RUN_REF and job["args"] == (job_id,)
        assert (job["coalesce"], job["max_instances"], job["misfire_grace_time"]) == (True, 1, None)
    triggers = {job_id: str(pickle.loads(state)["trigger"]) for job_id, state in rows}
    assert triggers["plan_contacts"] == "cron[hour='1', minute='30']"
    assert triggers["outreach"] == "interval[0:01:00]"


def test_registration_drops_undeclared_jobs_and_keeps_missed_runs_due(app):
    missed = now() - timedelta(hours=2)
    with job_store(app) as scheduler:
        runner.register_jobs(scheduler)
        scheduler.add_job(jobs.RUN_REF, "interval", minutes=5, args=["retired"], id="retired")
        scheduler.modify_job("plan_contacts", next_run_time=missed)
        scheduler.modify_job("morning_digest", next_run_time=missed)

    # The morning digest moves to 08:00; the rest stays as declared.
    declared = tuple(
        replace(spec, when=jobs.Cron(hour=8)) if spec.id == "morning_digest" else spec
        for spec in jobs.JOBS
    )
    with job_store(app) as scheduler:
        runner.register_jobs(scheduler, declared)
        found = {job.id: job for job in scheduler.get_jobs()}

    assert sorted(found) == JOB_IDS
    assert found["plan_contacts"].next_run_time == missed  # still due: it runs on start
    digest = found["morning_digest"]
    assert str(digest.trigger) == "cron[hour='8', minute='0']"
    assert digest.next_run_time > now()
    assert (digest.next_run_time.hour, digest.next_run_time.minute) == (8, 0)
    assert str(digest.next_run_time.tzinfo) == "Asia/Shanghai"


def test_every_declared_job_resolves_to_a_function():
    assert len(set(JOB_IDS)) == len(jobs.JOBS)
    for spec in jobs.JOBS:
        assert callable(pkgutil.resolve_name(spec.func)), spec.id


def test_lease_timings_must_leave_room_to_renew(app_factory):
    with pytest.raises(ValueError, match="CRM_SCHEDULER_RENEW_SECONDS"):
        runner.SchedulerProcess(
            app_factory(CRM_SCHEDULER_LEASE_SECONDS=10, CRM_SCHEDULER_RENEW_SECONDS=10)
        )


# --- a run and its log ---------------------------------------------------------------------


@pytest.fixture
def bound(app, monkeypatch):
    """The jobs bound to this test's app, as the runner binds them to the process's."""
    state = {"active": True}
    monkeypatch.setattr(jobs, "_binding", jobs.Binding(app, "host:1:test", lambda: state["active"]))
    return state


def test_a_run_is_logged_with_its_holder_and_due_time(app, bound):
    due = now() - timedelta(minutes=3)
    jobs.run("outreach", scheduled_for=due)

    (run,) = db.session.scalars(sa.select(JobRun)).all()
    assert (run.job_id, run.holder, run.ok) == ("outreach", "host:1:test", True)
    assert run.scheduled_for == due
    assert run.started_at <= run.finished_at
    assert run.summary.startswith("queued 0; sent 0")


def test_a_failing_job_is_logged_and_does_not_raise(app, bound, monkeypatch):
    def broken() -> str:
        raise RuntimeError("provider down")

    monkeypatch.setattr(jobs, "morning_digest", broken)
    jobs.run("morning_digest")
    jobs.run("visit_reminders")

    runs = {r.job_id: r for r in db.session.scalars(sa.select(JobRun))}
    assert runs["morning_digest"].ok is False
    assert runs["morning_digest"].summary == "RuntimeError: provider down"
    assert runs["morning_digest"].finished_at is not None
    assert runs["visit_reminders"].ok is True


def test_a_scheduler_that_lost_its_lease_runs_nothing(app, bound):
    bound["active"] = False
    jobs.run("outreach")
    assert db.session.scalars(sa.select(JobRun)).all() == []


# --- the lease ------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_one_holder_at_a_time_and_a_standby_takes_over_once_the_lease_lapses(app):
    clock = Clock()
    first = Lease(db.engine, "a:1:x", 30, clock=clock)
    second = Lease(db.engine, "b:2:y", 30, clock=clock)

    assert first.acquire()  # the very first time: inserted
    assert not second.acquire()  # the row exists: the insert meets the primary key
    clock.now += timedelta(seconds=20)
    assert first.renew() and first.acquire()
    clock.now += timedelta(seconds=45)  # the first stopped renewing 45 s ago: lapsed
    assert first.current().holder == "a:1:x" and not first.holds()
    assert second.acquire()
    assert not first.renew() and not first.acquire()
    assert second.current().holder == "b:2:y" and second.holds()

    second.release()
    assert first.acquire()  # at once, not 30 s later
    second.release()  # not the holder: changes nothing
    assert first.holds()


# --- long work queued by a page ------------------------------------------------------------

RETIER_CUSTOMERS = 240
_RUNNING = re.compile(r"Running: (\d[\d,]*) of (\d[\d,]*) customers")


def _settings_state(client) -> tuple[str | None, str]:
    page = client.get("/admin/settings", headers={"Accept-Language": "en"}).get_data(as_text=True)
    state = re.search(r'class="retier-job" data-state="(\w+)"', page)
    return (state.group(1) if state else None), page


def test_a_threshold_change_from_the_page_runs_in_the_scheduler_with_its_progress(
    local_app, start_scheduler, monkeypatch
):
    """Saving thresholds answers at once with the re-tier queued; the scheduler process runs
    it in chunks (here of 2 customers), the page shows it running with its progress, then done
    with its summary, and every customer is re-tiered once."""
    from crm.models import Branch, Customer, QuadrantEvent
    from crm.models.enums import MoveCause, Role
    from crm.services.customers import tiering
    from tests.support.factories import PASSWORD, make_customer, make_staff

    with local_app.app_context():
        branch = Branch(name="城东支行")
        make_staff("boss", Role.ADMIN, None)
        owner = make_staff("wangli", Role.STAFF, branch)
        for n in range(RETIER_CUSTOMERS):
            customer = make_customer(
                owner,
                f"客户{n}",
                f"+86138{n:08d}",
                liquid_assets=Decimal(100_000 * (n % 20)),
                willingness=(n * 7) % 100,
            )
            tiering.place(customer, MoveCause.IMPORT, None, first=True)
        db.session.commit()
        db.session.remove()
    wanted = tiering.Thresholds(capability=Decimal("550000.00"), willingness=35)

    client = local_app.test_client()
    client.post("/login", data={"username": "boss", "password": PASSWORD})
    started = time.monotonic()
    saved = client.post(
        "/admin/settings",
        data={"capability_threshold": "550000", "willingness_threshold": "35"},
    )
    assert saved.status_code == 302
    assert time.monotonic() - started < 2  # nothing re-tiered in the request
    assert _settings_state(client)[0] == "queued"

    monkeypatch.setenv("CRM_RETIER_CHUNK", "2")
    monkeypatch.setenv("CRM_JOB_POLL_SECONDS", "0.2")
    process = start_scheduler("worker")
    seen: list[tuple[int, int]] = []
    deadline = time.monotonic() + 60
    while True:
        state, page = _settings_state(client)
        if state == "running" and (running := _RUNNING.search(page)):
            seen.append(tuple(int(g.replace(",", "")) for g in running.groups()))
        if state in ("done", "failed"):
            break
        assert process.process.poll() is None, process.output()
        assert time.monotonic() < deadline, process.output()
        time.sleep(0.02)
    assert state == "done", page
    partial = [done for done, total in seen if 0 < done < total]
    assert partial, f"never seen part-way: {seen}"
    assert partial == sorted(partial)
    assert all(total == RETIER_CUSTOMERS for done, total in seen if done)

    with local_app.app_context():
        customers = db.session.scalars(sa.select(Customer)).all()
        assert all(
            c.quadrant == tiering.quadrant_for(c.liquid_assets, c.willingness, wanted)
            for c in customers
        )
        moves = Counter(
            db.session.scalars(
                sa.select(QuadrantEvent.customer_id).where(
                    QuadrantEvent.cause == MoveCause.THRESHOLD_CHANGE
                )
            )
        )
        first = Counter(
            db.session.execute(
                sa.select(QuadrantEvent.customer_id, QuadrantEvent.to_quadrant).where(
                    QuadrantEvent.cause == MoveCause.IMPORT
                )
            ).all()
        )
        moved = {c.id for c in customers if (c.id, c.quadrant) not in first}
        db.session.remove()
    assert moved and set(moves) == moved and set(moves.values()) == {1}
    summary = f"{len(moved)} of {RETIER_CUSTOMERS} customers changed quadrant"
    assert summary in page
    assert process.stop() == 0
