"""Reports asked for on the reports page: any report, period, branch and language a manager
may see, made by the scheduler process as long work (``crm.core.jobs``) and kept under the
reports folder for whoever asked.

What is asked is checked first, and a refusal writes and queues nothing: a period reversed
or not yet over, a branch beyond the asker's reach, a language reports are not written in,
a report that does not exist.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from flask import abort, current_app
from flask_babel import gettext as _

from analytics import delivery, report
from analytics.language import language_of
from crm.core import jobs as queue
from crm.core.access import visible_branches
from crm.core.clock import local_today
from crm.core.inputs import InvalidInput, as_id, read_date
from crm.extensions import db
from crm.models import BackgroundJob, Branch, Staff
from crm.models.enums import Role
from crm.models.job import JobState

KIND = "report"  # the kind of long work
FIELDS = ("kind", "start", "end", "branch", "language")
BadRequest = InvalidInput


def blank_request(user: Staff) -> dict[str, str]:
    """The form's first values: last month, the user's branch and language."""
    start, end = delivery.last_month(local_today())
    return {
        "kind": "migration",
        "start": start.isoformat(),
        "end": end.isoformat(),
        "branch": str(user.branch_id or ""),
        "language": user.language or "zh_CN",
    }


def _checked(user: Staff, asked: Mapping[str, str]) -> dict:
    errors: dict[str, str] = {}
    if asked.get("kind") not in report.TITLES:
        errors["kind"] = _("Choose a report.")
    start, end = read_date(asked.get("start")), read_date(asked.get("end"))
    if start is None:
        errors["start"] = _("Enter the first day as YYYY-MM-DD.")
    if end is None:
        errors["end"] = _("Enter the last day as YYYY-MM-DD.")
    language = asked.get("language") or None
    if reason := report.language_refusal(language):
        errors["language"] = reason
    if start and end and (reason := report.period_refusal(start, end, local_today())):
        errors["end"] = reason
    branch = _branch(user, asked.get("branch"), errors)
    if errors:
        raise BadRequest(errors)
    return {
        "kind": asked["kind"],
        "start": start.isoformat(),
        "end": end.isoformat(),
        "branch": branch.name if branch else None,
        "language": language_of(language),
    }


def _branch(user: Staff, raw: str | None, errors: dict) -> Branch | None:
    """The branch asked for, if the user may see its data; the whole bank (None) for admins."""
    if not raw:
        if user.role == Role.ADMIN:
            return None
        errors["branch"] = _("Choose your branch.")
        return None
    wanted = as_id(raw)
    for branch in visible_branches(user):
        if branch.id == wanted:
            return branch
    errors["branch"] = _("You cannot see that branch's customers.")
    return None


def ask_for_report(user: Staff, asked: Mapping[str, str]) -> BackgroundJob:
    """Queue the report asked for (the caller commits); ``BadRequest`` with a message per
    field when it cannot be made, ``crm.core.jobs.JobBusy`` while other work is under way."""
    params = _checked(user, asked)
    params["file"] = f"requested/{user.id}/{secrets.token_hex(8)}.html"
    return queue.enqueue(KIND, params, user)


def report_job(params: dict, progress: Callable[[int, int], None]) -> dict:
    """The queued report as the scheduler process makes it."""
    progress(0, 1)
    report.render(
        params["kind"],
        delivery.folder() / params["file"],
        database_url=current_app.config["SQLALCHEMY_DATABASE_URI"],
        start=date.fromisoformat(params["start"]),
        end=date.fromisoformat(params["end"]),
        branch=params.get("branch"),
        language=params["language"],
    )
    progress(1, 1)
    return {"file": params["file"]}


def requested_by(user: Staff, limit: int = 10) -> list[BackgroundJob]:
    """The reports ``user`` asked for lately, newest first."""
    return list(
        db.session.scalars(
            sa.select(BackgroundJob)
            .where(BackgroundJob.kind == KIND, BackgroundJob.requested_by_id == user.id)
            .order_by(BackgroundJob.id.desc())
            .limit(limit)
        )
    )


def requested_file_or_404(job_id: int, user: Staff) -> Path:
    """The file of a report ``user`` asked for and that is made, or 404."""
    job = db.session.get(BackgroundJob, job_id)
    if job is None or job.kind != KIND or job.requested_by_id != user.id:
        abort(404)
    path = delivery.folder() / str((job.result or {}).get("file", ""))
    if job.state != JobState.DONE or not path.is_file():
        abort(404)
    return path
