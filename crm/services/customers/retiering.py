"""A threshold change saved on a page: stored at once, the re-tier of everyone queued for the
scheduler process (crm.core.jobs), which runs it in chunks as ``flask crm retier`` does."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from flask import current_app

from crm.core import jobs
from crm.extensions import db
from crm.models import BackgroundJob, Staff
from crm.services.customers import tiering

# The kind of job that re-tiers everyone (crm.scheduler.jobs.LONG_WORK names its function).
RETIER_JOB = "retier"


def queue_threshold_change(actor: Staff | None, thresholds: tiering.Thresholds) -> BackgroundJob:
    """Store new thresholds and queue the re-tier (the caller commits): the request answers
    at once, whatever the number of customers. ``InvalidInput`` while a re-tier is under way,
    with nothing written."""
    tiering.refuse_while_retiering()
    tiering.save_thresholds(actor, thresholds)
    try:
        return jobs.enqueue(
            RETIER_JOB,
            {
                "capability": str(thresholds.capability),
                "willingness": thresholds.willingness,
                "actor_id": actor.id if actor else None,
            },
            actor,
        )
    except jobs.JobBusy:  # another request queued one a moment ago
        db.session.rollback()
        tiering.refuse_while_retiering()
        raise


def latest_retier() -> BackgroundJob | None:
    """The last queued re-tier, for the settings page to show how it is going or went."""
    return jobs.latest(RETIER_JOB)


def retier_job(params: dict, progress: Callable[[int, int], None]) -> dict:
    """The queued re-tier as the scheduler process runs it, in chunks of ``CRM_RETIER_CHUNK``
    customers; returns the counts the settings page shows."""
    thresholds = tiering.Thresholds(
        capability=Decimal(params["capability"]), willingness=int(params["willingness"])
    )
    actor = db.session.get(Staff, params["actor_id"]) if params.get("actor_id") else None
    summary = tiering.retier_all(
        thresholds,
        actor=actor,
        chunk=int(current_app.config["CRM_RETIER_CHUNK"]),
        progress=progress,
    )
    return {"moved": summary.moved, "examined": summary.examined}
