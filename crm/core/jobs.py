"""The queue of long work (后台任务): web requests queue it, the scheduler process runs it.

A request that would touch more rows than a web request should (a re-tier of a million
customers) saves what the user decided and queues a job in the same transaction; the
scheduler process claims it, runs it in chunks, and writes its progress as it goes, so that
the page can show it queued, running, done or failed. One job is under way at a time: the
``lane`` column is unique, so a second one is refused by the database even when two requests
race past the check in ``enqueue``.

What a kind of job does is named by the caller (``run`` takes a mapping of kinds to
``"module:function"``), so this module knows no feature.
"""

from __future__ import annotations

import pkgutil
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from crm.extensions import db
from crm.models import BackgroundJob, Staff
from crm.models.base import utcnow
from crm.models.job import BUSY, JobState

Progress = Callable[[int, int], None]


class JobBusy(Exception):
    """Another job is queued or running; try again once it is done."""

    def __init__(self, job: BackgroundJob | None) -> None:
        super().__init__(f"job {job.id if job else '?'} is under way")
        self.job = job


class Interrupted(Exception):
    """The process running a job is stopping; the job goes back to the queue."""


def under_way() -> BackgroundJob | None:
    """The job queued or running, if any."""
    return db.session.scalar(sa.select(BackgroundJob).where(BackgroundJob.lane == BUSY))


def latest(kind: str) -> BackgroundJob | None:
    """The newest job of a kind, whatever its state."""
    return db.session.scalar(
        sa.select(BackgroundJob)
        .where(BackgroundJob.kind == kind)
        .order_by(BackgroundJob.id.desc())
        .limit(1)
    )


def enqueue(kind: str, params: Mapping[str, Any], actor: Staff | None) -> BackgroundJob:
    """Queue a job in the caller's transaction (the caller commits), or raise ``JobBusy``."""
    current = under_way()
    if current is not None:
        raise JobBusy(current)
    job = BackgroundJob(
        kind=kind,
        params=dict(params),
        state=JobState.QUEUED,
        lane=BUSY,
        requested_by_id=actor.id if actor else None,
        queued_at=utcnow(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(job)
    except IntegrityError:  # queued by another request since the check above
        raise JobBusy(None) from None
    return job


def requeue_abandoned(holder: str) -> int:
    """Put back in the queue the jobs left running by a process that is gone (only the
    lease holder runs jobs, so any job running under another name was abandoned)."""
    count = db.session.execute(
        sa.update(BackgroundJob)
        .where(BackgroundJob.state == JobState.RUNNING, BackgroundJob.holder != holder)
        .values(state=JobState.QUEUED, holder=None)
    ).rowcount
    db.session.commit()
    return count


def claim(holder: str) -> BackgroundJob | None:
    """Mark the queued job running under ``holder`` (committed); None if nothing is queued."""
    job = db.session.scalar(
        sa.select(BackgroundJob).where(
            BackgroundJob.lane == BUSY, BackgroundJob.state == JobState.QUEUED
        )
    )
    if job is None:
        return None
    claimed = db.session.execute(
        sa.update(BackgroundJob)
        .where(BackgroundJob.id == job.id, BackgroundJob.state == JobState.QUEUED)
        .values(state=JobState.RUNNING, holder=holder, started_at=utcnow())
    ).rowcount
    db.session.commit()
    if not claimed:
        return None
    db.session.refresh(job)
    return job


def run(
    job: BackgroundJob,
    kinds: Mapping[str, str],
    keep_going: Callable[[], bool] = lambda: True,
) -> None:
    """Run a claimed job to its end, writing progress after each chunk; never raises.

    The function of its kind is called as ``function(params, progress)`` and returns the
    result the page shows (a dict of plain values). ``keep_going`` is asked after each chunk:
    False puts the job back in the queue, to be finished by whichever process runs it next
    (every kind is idempotent: run again, it finishes the rest).
    """
    job_id = job.id

    def progress(done: int, total: int) -> None:
        db.session.execute(
            sa.update(BackgroundJob)
            .where(BackgroundJob.id == job_id)
            .values(done=done, total=total)
        )
        db.session.commit()
        if not keep_going():
            raise Interrupted

    values: dict[str, Any]
    try:
        function = pkgutil.resolve_name(kinds[job.kind])
        result = function(dict(job.params or {}), progress)
    except Interrupted:
        db.session.rollback()
        values = {"state": JobState.QUEUED, "holder": None}
    except Exception as error:
        db.session.rollback()
        values = {
            "state": JobState.FAILED,
            "lane": None,
            "failure": f"{type(error).__name__}: {error}"[:500],
            "finished_at": utcnow(),
        }
    else:
        values = {
            "state": JobState.DONE,
            "lane": None,
            "result": result,
            "finished_at": utcnow(),
        }
    db.session.execute(sa.update(BackgroundJob).where(BackgroundJob.id == job_id).values(**values))
    db.session.commit()
