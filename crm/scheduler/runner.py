"""The scheduler process: stand by until it holds the lease, then run APScheduler.

One APScheduler 3 ``BackgroundScheduler`` with its SQLAlchemy job store in the app's own
database (the ``apscheduler_jobs`` table that migration 0004 makes), in the business's time
zone. A process that cannot get the lease stands by and asks again every few seconds; the
active one renews the lease from its main thread and, should it ever find the lease gone,
stops its APScheduler at once and stands by again. SIGTERM or SIGINT stops it cleanly and
hands the lease over.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from crm.extensions import db
from crm.scheduler import jobs
from crm.scheduler.lease import Lease, holder_id

log = logging.getLogger("crm.scheduler")

JOB_DEFAULTS = {
    # Runs missed while no scheduler was up (or while a job overran) collapse into one.
    "coalesce": True,
    "max_instances": 1,
    # None: "allow the job to run no matter how late it is" (APScheduler 3, Job). With
    # coalesce, a daily job missed during a two-hour outage runs once on restart instead of
    # being dropped, and the minute job runs once, not 120 times.
    "misfire_grace_time": None,
}


class _DueAt:
    """A job as APScheduler's ``run_job`` sees it, with the time it was due added to its
    keyword arguments (with coalescing, the last of its run times)."""

    def __init__(self, job, due: datetime) -> None:
        self._job = job
        self.kwargs = {**job.kwargs, "scheduled_for": due}

    def __getattr__(self, name: str):
        return getattr(self._job, name)

    def __str__(self) -> str:
        return str(self._job)


class DueTimeExecutor(ThreadPoolExecutor):
    """APScheduler's thread pool, telling each run when it was due, for the run log."""

    def _do_submit_job(self, job, run_times):
        super()._do_submit_job(_DueAt(job, run_times[-1]), run_times)


def build_scheduler(app: Flask, executor: ThreadPoolExecutor | None = None) -> BackgroundScheduler:
    """An APScheduler (not started) on the app's database and in the business's time zone."""
    with app.app_context():
        engine = db.engine
    return BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename="apscheduler_jobs")},
        executors={"default": executor or DueTimeExecutor(max_workers=4)},
        job_defaults=JOB_DEFAULTS,
        timezone=ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"]),
    )


def stop_scheduler(scheduler: BackgroundScheduler) -> None:
    """Stop at once: nothing new starts; runs under way go on; the job store stays as it is.

    After ``shutdown`` APScheduler 3's loop takes one more look at the store, and a job due at
    that instant would be refused by the stopped executor yet stored as run: a missed run
    lost. Taking the store away first leaves such a run due for the next scheduler (and the
    app's engine, which the store would dispose of, alone).
    """
    if scheduler.running:
        scheduler.remove_jobstore("default", shutdown=False)
        scheduler.shutdown(wait=False)


def _same_schedule(stored: BaseTrigger, wanted: BaseTrigger) -> bool:
    return (
        type(stored) is type(wanted)
        and str(stored) == str(wanted)
        and str(stored.timezone) == str(wanted.timezone)
    )


def register_jobs(scheduler: BackgroundScheduler, specs: tuple[jobs.JobSpec, ...] = jobs.JOBS):
    """Make the job store hold exactly ``specs``, by their stable ids; idempotent.

    The scheduler must be started (paused is enough). A job whose schedule is unchanged keeps
    its stored next run time: ``replace_existing`` alone would compute a fresh one from now,
    and so drop the very runs that were missed while no scheduler was up.
    """
    wanted = {spec.id for spec in specs}
    for job in scheduler.get_jobs():
        if job.id not in wanted:
            scheduler.remove_job(job.id)
            log.info("job %s removed: no longer declared", job.id)
    for spec in specs:
        trigger = spec.when.trigger(scheduler.timezone)
        stored = scheduler.get_job(spec.id)
        keep = {}
        if stored is not None and _same_schedule(stored.trigger, trigger):
            keep["next_run_time"] = stored.next_run_time
        scheduler.add_job(
            jobs.RUN_REF,
            trigger,
            args=[spec.id],
            id=spec.id,
            name=spec.func,
            replace_existing=True,
            **keep,
        )


def _short(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:200] if text else ''}"


class SchedulerProcess:
    """The loop of one ``flask crm scheduler`` process: stand by, run, stand by again if the
    lease is lost, until asked to stop."""

    def __init__(self, app: Flask, holder: str | None = None) -> None:
        config = app.config
        self.app = app
        self.lease_seconds = float(config["CRM_SCHEDULER_LEASE_SECONDS"])
        self.renew_seconds = float(config["CRM_SCHEDULER_RENEW_SECONDS"])
        self.poll_seconds = float(config["CRM_SCHEDULER_STANDBY_POLL_SECONDS"])
        self.job_poll_seconds = float(config["CRM_JOB_POLL_SECONDS"])
        if not 0 < self.renew_seconds < self.lease_seconds or self.poll_seconds <= 0:
            raise ValueError(
                "CRM_SCHEDULER_RENEW_SECONDS must be above 0 and below "
                "CRM_SCHEDULER_LEASE_SECONDS, and CRM_SCHEDULER_STANDBY_POLL_SECONDS above 0."
            )
        with app.app_context():
            engine = db.engine
        self.lease = Lease(engine, holder or holder_id(), self.lease_seconds)
        self.zone = ZoneInfo(config["BABEL_DEFAULT_TIMEZONE"])
        self.stop = threading.Event()

    def _local(self, moment: datetime | None) -> str:
        return moment.astimezone(self.zone).isoformat(timespec="seconds") if moment else "never"

    def run(self) -> None:
        jobs.bind(self.app, self.lease.holder, self.lease.holds)
        try:
            while self._wait_for_lease() and self._run_while_leased():
                pass
        finally:
            try:
                self.lease.release()
            except SQLAlchemyError as error:
                log.warning("scheduler could not release its lease: %s", _short(error))
            log.info("scheduler %s stopped", self.lease.holder)

    def _wait_for_lease(self) -> bool:
        """Block until this process holds the lease (True) or is asked to stop (False)."""
        announced = None
        while not self.stop.is_set():
            try:
                if self.lease.acquire():
                    return True
                current = self.lease.current()
            except SQLAlchemyError as error:
                log.warning("scheduler standby: database unavailable (%s); retrying", _short(error))
            else:
                if current is not None and current.holder != announced:
                    log.info(
                        "scheduler standby: another scheduler (%s) holds the lease until %s; "
                        "waiting",
                        current.holder,
                        self._local(current.expires_at),
                    )
                    announced = current.holder
            self.stop.wait(self.poll_seconds)
        return False

    def _run_while_leased(self) -> bool:
        """Run APScheduler while the lease holds. True: the lease was lost, stand by again;
        False: asked to stop."""
        log.info("scheduler active as %s", self.lease.holder)
        executor = DueTimeExecutor(max_workers=4)
        scheduler = build_scheduler(self.app, executor)
        # Long work queued by web requests runs beside the periodic jobs, on a thread of its
        # own: a re-tier of a million customers must not hold up the minute's outreach.
        worker_stop = threading.Event()
        worker = threading.Thread(
            target=jobs.work_queued,
            args=(worker_stop, self.job_poll_seconds),
            name="long-work",
            daemon=True,
        )
        lost = False
        try:
            scheduler.start(paused=True)
            register_jobs(scheduler)
            scheduler.resume()
            worker.start()
            for job in scheduler.get_jobs():
                log.info("job %s next due %s", job.id, self._local(job.next_run_time))
            while not self.stop.wait(self.renew_seconds):
                if not self._renew():
                    lost = True
                    break
        except Exception:
            log.exception("scheduler failed while active; standing by")
            lost = True
            self.stop.wait(self.poll_seconds)  # not at once: the same failure would follow
        finally:
            worker_stop.set()
            stop_scheduler(scheduler)
            if worker.is_alive():
                worker.join()  # a job under way stops after its chunk, back in the queue
            executor.shutdown(wait=True)  # runs under way finish (every job is idempotent)
        return lost and not self.stop.is_set()

    def _renew(self) -> bool:
        """Renew the lease; False if it is lost, or might be before the next try."""
        try:
            if self.lease.renew():
                return True
        except SQLAlchemyError as error:
            if time.monotonic() + self.renew_seconds < self.lease.valid_until:
                log.warning("scheduler could not renew its lease (%s); retrying", _short(error))
                return True
            log.error(
                "scheduler could not renew its lease before it runs out (%s); stopping its jobs",
                _short(error),
            )
            return False
        try:
            current = self.lease.current()
        except SQLAlchemyError:
            current = None
        log.error(
            "scheduler lost its lease to %s; stopping its jobs",
            current.holder if current else "another scheduler",
        )
        return False


def serve(process: SchedulerProcess) -> None:
    """The entry point of ``flask crm scheduler``: run until SIGTERM or SIGINT."""

    def request_stop(signum, _frame) -> None:
        # Setting the event from another thread: the handler runs on the main thread, which
        # may be holding the event's lock at this very moment.
        threading.Thread(target=process.stop.set).start()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, request_stop)
    process.run()
