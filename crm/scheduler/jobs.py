"""The scheduler's jobs, declared as data, and the run log (``job_run``) each run writes.

A job is one line of ``JOBS``: a stable id, the function it calls (``module:function``) and
when (a local time every day, or every few minutes), in the business's time zone. APScheduler
stores each as a call of ``run(job_id)``: the arguments it keeps are plain ids, never objects
that could go stale in its table. The functions are thin: each calls one domain function,
which is idempotent, so a run repeated after a crash or a takeover does nothing twice.
"""

from __future__ import annotations

import logging
import pkgutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from crm.core import jobs as queue
from crm.core.clock import business_zone
from crm.extensions import db
from crm.models import JobRun
from crm.models.base import utcnow

log = logging.getLogger("crm.scheduler")


@dataclass(frozen=True)
class Cron:
    """Every day at hour:minute, local time."""

    hour: int
    minute: int = 0

    def trigger(self, zone: tzinfo) -> BaseTrigger:
        return CronTrigger(hour=self.hour, minute=self.minute, timezone=zone)


@dataclass(frozen=True)
class Monthly:
    """On a day of every month at hour:minute, local time."""

    day: int
    hour: int
    minute: int = 0

    def trigger(self, zone: tzinfo) -> BaseTrigger:
        return CronTrigger(day=self.day, hour=self.hour, minute=self.minute, timezone=zone)


@dataclass(frozen=True)
class Every:
    """Every so many minutes."""

    minutes: int

    def trigger(self, zone: tzinfo) -> BaseTrigger:
        return IntervalTrigger(minutes=self.minutes, timezone=zone)


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: str  # "module:function", called with no arguments inside an app context
    when: Cron | Monthly | Every


JOBS: tuple[JobSpec, ...] = (
    JobSpec("dashboard_months", "crm.scheduler.jobs:dashboard_months", Cron(hour=0, minute=30)),
    JobSpec("maturity_scan", "crm.scheduler.jobs:maturity_scan", Cron(hour=1, minute=0)),
    JobSpec("plan_contacts", "crm.scheduler.jobs:plan_contacts", Cron(hour=1, minute=30)),
    JobSpec("churn_score", "crm.scheduler.jobs:churn_score", Cron(hour=2, minute=0)),
    JobSpec("effect_history", "crm.scheduler.jobs:effect_history", Cron(hour=2, minute=30)),
    JobSpec("outreach", "crm.scheduler.jobs:outreach", Every(minutes=1)),
    JobSpec("morning_digest", "crm.scheduler.jobs:morning_digest", Cron(hour=7, minute=30)),
    JobSpec("visit_reminders", "crm.scheduler.jobs:visit_reminders", Cron(hour=16, minute=0)),
    JobSpec("monthly_reports", "crm.scheduler.jobs:monthly_reports", Monthly(day=1, hour=8)),
)

# What ``run`` stores in APScheduler's table for every job.
RUN_REF = "crm.scheduler.jobs:run"

# Long work that web requests queue (crm.core.jobs), by kind: "module:function", called with
# the job's params and a progress callback inside an app context, resolved only when run.
LONG_WORK: dict[str, str] = {
    "retier": "crm.services.customers.retiering:retier_job",
    "handover": "crm.services.management.handover_jobs:handover_job",
    "monthly_report": "analytics.delivery:remake_job",
    "report": "analytics.requests:report_job",
}


def spec_for(job_id: str) -> JobSpec:
    for spec in JOBS:
        if spec.id == job_id:
            return spec
    raise LookupError(f"no job {job_id!r} in JOBS")


# --- the jobs ------------------------------------------------------------------------------


def dashboard_months() -> str:
    """The dashboard's months up to the start of today, per branch (主管看板): the month the
    last run left open and any a late event or a customer's new branch changed."""
    from crm.services.management import book_store

    summary = book_store.refresh()
    db.session.commit()
    return str(summary)


def maturity_scan() -> str:
    """Call-back tasks for policies maturing up to the end of next month (满期回访)."""
    from crm.services.followup import calls

    return f"call-backs {calls.maturity_scan()}"


def plan_contacts() -> str:
    """The rolling planner (滚动计划), up to the configured horizon."""
    from crm.extensions import db
    from crm.services.experiments import assignment
    from crm.services.planning import planner

    # Customers who came into a running experiment's scope get their arm first, so that
    # tonight's plan already withholds the category from the new holdout.
    assignment.assign_newcomers()
    db.session.commit()
    until = planner.horizon()
    summary = planner.plan_contacts(until)
    return f"planned {summary.planned} up to {until.isoformat()}, cancelled {summary.cancelled}"


def churn_score() -> str:
    """Every customer's churn risk (流失风险), before the morning digest reports who rose."""
    from crm.services.retention import scoring

    summary = scoring.score_all()
    db.session.commit()
    levels = ", ".join(f"{level} {n}" for level, n in sorted(summary.levels.items()))
    return f"scored {summary.scored} ({levels}), {summary.changed} changed"


def effect_history() -> str:
    """The bank's effect history per quadrant and category, stored for the day's suggestions
    (下一步体验建议), so that no page aggregates the year's experiences itself."""
    from crm.services.advice import effects

    as_of = effects.store_history()
    db.session.commit()
    return f"effect history stored as of {as_of.isoformat()}"


def outreach() -> str:
    """Queue the SMS due today, then send what is due: in this order, in one run, so that a
    message queued now goes out in the same minute, and the two never write at once."""
    from crm.services.outreach.dispatch import dispatch
    from crm.services.outreach.enqueue import enqueue_due

    parts = []
    failed = None
    try:
        parts.append(f"queued {enqueue_due()}")
    except Exception as error:  # what is queued already is still sent
        db.session.rollback()
        log.exception("outreach: queueing due SMS failed")
        failed = error
        parts.append(f"queueing failed: {error}")
    sent = dispatch()
    parts.append(
        f"sent {sent.sent}, failed {sent.failed}, skipped {sent.skipped}, "
        f"deferred {sent.deferred}, uncertain {sent.uncertain}"
    )
    if sent.reconciled:
        counts = ", ".join(f"{outcome} {n}" for outcome, n in sorted(sent.reconciled.items()))
        parts.append(f"reconciled {counts}")
    summary = "; ".join(parts)
    if failed is not None:
        raise JobFailed(summary) from failed
    return summary


def morning_digest() -> str:
    """The staff morning digest (每日提醒)."""
    from crm.services.outreach import digest

    return f"digests {digest.send_morning_digest()}"


def visit_reminders() -> str:
    """Reminders the day before each visit or event."""
    from crm.services.outreach import reminders

    return f"reminders {reminders.send_visit_reminders()}"


def monthly_reports() -> str:
    """Last month's reports for each branch's managers (月度报告), and any that failed before."""
    from analytics import delivery

    summary = delivery.make_monthly_reports()
    text = f"made {summary.made}, failed {summary.failed}, notified {summary.notified}"
    if summary.failed:
        raise JobFailed(text)  # recorded as failed; the next run tries those again
    return text


# --- running them ------------------------------------------------------------------------


class JobFailed(Exception):
    """A job that did part of its work; the message says what was done and what failed."""


@dataclass
class Binding:
    """What the runner hands the jobs: its app (made in the process entry point, never at
    import) and a check that this process still holds the lease."""

    app: Flask | None = None
    holder: str | None = None
    still_active: Callable[[], bool] = lambda: True


_binding = Binding()


def bind(app: Flask, holder: str, still_active: Callable[[], bool]) -> None:
    global _binding
    _binding = Binding(app, holder, still_active)


def run(job_id: str, scheduled_for: datetime | None = None) -> None:
    """Run one job in an app context and log it in ``job_run``; never raises, so a failing job
    costs one run, not the scheduler. ``scheduled_for`` is the time the run was due (with
    coalescing, the latest of the runs it stands for)."""
    binding = _binding
    if binding.app is None:
        raise RuntimeError("crm.scheduler.jobs.run outside the scheduler process")
    with binding.app.app_context():
        try:
            _run(job_id, scheduled_for, binding)
        except Exception:
            db.session.rollback()
            log.exception("job %s could not run or be logged", job_id)


def _run(job_id: str, scheduled_for: datetime | None, binding: Binding) -> None:
    # A process frozen past its lease may wake up with due jobs before it notices that a
    # standby took over; asking the database first keeps such a run from happening twice.
    if not binding.still_active():
        log.warning("job %s not run: this scheduler no longer holds the lease", job_id)
        return
    entry = JobRun(
        job_id=job_id, scheduled_for=scheduled_for, started_at=utcnow(), holder=binding.holder
    )
    db.session.add(entry)
    db.session.commit()
    started = time.monotonic()
    try:
        summary = str(pkgutil.resolve_name(spec_for(job_id).func)() or "")
        ok = True
    except Exception as error:
        db.session.rollback()
        log.exception("job %s failed", job_id)
        summary = f"{type(error).__name__}: {error}"
        ok = False
    entry.finished_at = utcnow()
    entry.ok = ok
    entry.summary = summary[:500]
    db.session.commit()
    log.log(
        logging.INFO if ok else logging.ERROR,
        "job %s %s in %.1f s (due %s): %s",
        job_id,
        "done" if ok else "FAILED",
        time.monotonic() - started,
        scheduled_for.astimezone(business_zone()).isoformat(timespec="seconds")
        if scheduled_for
        else "now",
        summary,
    )


# --- long work ---------------------------------------------------------------------------


def work_queued(stop: threading.Event, poll_seconds: float) -> None:
    """Run the long work that web requests queue, one job at a time, until ``stop`` is set:
    the loop of a thread of the active scheduler. A job under way when ``stop`` is set (or
    the lease is lost) goes back to the queue after its current chunk."""
    binding = _binding
    if binding.app is None:
        raise RuntimeError("crm.scheduler.jobs.work_queued outside the scheduler process")

    def keep_going() -> bool:
        return not stop.is_set() and binding.still_active()

    first = True
    while not stop.is_set():
        ran = False
        with binding.app.app_context():
            try:
                if first:
                    if count := queue.requeue_abandoned(binding.holder):
                        log.warning("long work: %d job(s) abandoned by a stopped scheduler", count)
                    first = False
                job = queue.claim(binding.holder) if keep_going() else None
                if job is not None:
                    ran = True
                    started = time.monotonic()
                    log.info("long work: job %d (%s) started", job.id, job.kind)
                    queue.run(job, LONG_WORK, keep_going)
                    db.session.refresh(job)
                    log.info(
                        "long work: job %d (%s) %s in %.1f s: %s",
                        job.id,
                        job.kind,
                        job.state,
                        time.monotonic() - started,
                        job.failure or job.result,
                    )
            except Exception:
                db.session.rollback()
                log.exception("long work: the queue could not be read or written")
            finally:
                db.session.remove()
        if not ran:
            stop.wait(poll_seconds)
