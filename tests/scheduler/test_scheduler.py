"""The scheduler process (`flask crm scheduler`), on SQLite and PostgreSQL.

The process tests run the real command in subprocesses on a migrated database of their own,
with the lease shortened to seconds (lease 3 s, renewal 1 s, standby poll 0.5 s) so that a
takeover takes seconds, not minutes. Downtime is simulated by moving the stored next run
times into the past, as a clock that had moved on would see them.
"""

from __future__ import annotations

import contextlib
import pickle
import pkgutil
import re
import subprocess
import sys
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import JobRun, SchedulerLease
from crm.models.scheduler import apscheduler_jobs
from crm.scheduler import jobs, runner
from crm.scheduler.lease import Lease
from tests.scheduler.processes import LEASE, POLL, RENEW, ROOT

JOB_IDS = sorted(spec.id for spec in jobs.JOBS)
DAILY = sorted(spec.id for spec in jobs.JOBS if isinstance(spec.when, jobs.Cron))


def now() -> datetime:
    return datetime.now(UTC)


# --- job runs and the job store -------------------------------------------------------------


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
