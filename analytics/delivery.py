"""Monthly reports delivered (月度报告): last month's three reports for each branch, kept for
its managers (admins: every branch's), with a notification and, for those who switched it
on, an e-mail.

The scheduler's ``monthly_reports`` job calls ``make_monthly_reports`` on the 1st. Each
report is a ``MonthlyReport`` row (one per branch, month, kind and language, so nothing is
made twice) and an HTML file under the reports folder (``CRM_REPORTS_FOLDER``, by default
``reports/`` in the instance folder). A report that fails is recorded as failed with the
reason, and every later run tries it again; a file that went missing from storage is made
again when someone asks for it, as long work for the scheduler process (``remake_job``).
The readers of a branch are told once all three reports of the month are ready in their
language.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from babel.dates import format_skeleton
from flask import abort, current_app
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _

from analytics import report
from crm.core import jobs as queue
from crm.core.clock import local_today
from crm.extensions import db
from crm.models import Branch, MonthlyReport, Staff
from crm.models.base import utcnow
from crm.models.enums import NotificationKind, Role
from crm.models.report import ReportKind, ReportStatus
from crm.services.outreach import inbox

log = logging.getLogger(__name__)

KINDS: tuple[ReportKind, ...] = tuple(ReportKind)
REMAKE = "monthly_report"  # the kind of long work that makes a missing file again
LINK = "/reports"  # a path: the scheduler has no request to build a URL from

Render = Callable[..., Path]


@dataclass
class Summary:
    made: int = 0
    failed: int = 0
    notified: int = 0


def folder() -> Path:
    """Where report files are kept."""
    configured = current_app.config.get("CRM_REPORTS_FOLDER")
    return Path(configured) if configured else Path(current_app.instance_path) / "reports"


def last_month(today: date) -> tuple[date, date]:
    """The first and last day of the month before ``today``'s."""
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def month_text(month: date) -> str:
    """A month as the reader's language writes it (2026年11月, November 2026)."""
    return format_skeleton("yMMMM", month, locale=get_locale() or "zh_CN")


def readers(branch_id: int) -> list[Staff]:
    """Who receives a branch's reports: its managers and every admin, active ones."""
    return list(
        db.session.scalars(
            sa.select(Staff)
            .where(
                Staff.is_active_account.is_(True),
                sa.or_(
                    Staff.role == Role.ADMIN,
                    sa.and_(Staff.role == Role.MANAGER, Staff.branch_id == branch_id),
                ),
            )
            .order_by(Staff.id)
        )
    )


def languages(people: Iterable[Staff]) -> list[str]:
    """The languages a branch's reports are made in: its readers' (Chinese when none)."""
    return sorted({inbox.locale_of(p) for p in people}) or ["zh_CN"]


def relative_path(row: MonthlyReport) -> str:
    return f"{row.branch_id}/{row.month:%Y-%m}/{row.kind.value}.{row.language}.html"


def stored_file(row: MonthlyReport) -> Path | None:
    """The report's file, if it is ready and still there."""
    if row.status != ReportStatus.READY or not row.file_path:
        return None
    path = folder() / row.file_path
    return path if path.is_file() else None


def title_of(row: MonthlyReport) -> str:
    """The report's title in the current language."""
    return str(report.TITLES[row.kind.value])


def make(row: MonthlyReport, render: Render | None = None) -> bool:
    """Make one report's file now and record how it went (committed); never raises."""
    render = render or report.render
    start = row.month
    end = last_month(row.month.replace(day=28) + timedelta(days=4))[1]
    row.attempts += 1
    db.session.commit()
    try:
        render(
            row.kind.value,
            folder() / relative_path(row),
            database_url=current_app.config["SQLALCHEMY_DATABASE_URI"],
            start=start,
            end=end,
            branch=row.branch.name,
            language=row.language,
        )
    except Exception as error:  # one report's failure never stops the others
        log.exception("monthly report %s could not be made", row.id)
        db.session.rollback()
        row.status, row.error = ReportStatus.FAILED, f"{type(error).__name__}: {error}"[:500]
        db.session.commit()
        return False
    row.status, row.error = ReportStatus.READY, None
    row.file_path, row.made_at = relative_path(row), utcnow()
    db.session.commit()
    return True


def _rows_of_month(month: date) -> list[MonthlyReport]:
    """A row for each branch, report and language of the month, made where missing."""
    existing = {
        (r.branch_id, r.kind, r.language): r
        for r in db.session.scalars(sa.select(MonthlyReport).where(MonthlyReport.month == month))
    }
    for branch in db.session.scalars(sa.select(Branch).order_by(Branch.id)):
        for language in languages(readers(branch.id)):
            for kind in KINDS:
                if (branch.id, kind, language) not in existing:
                    row = MonthlyReport(
                        branch_id=branch.id, month=month, kind=kind, language=language
                    )
                    db.session.add(row)
                    existing[(branch.id, kind, language)] = row
    db.session.commit()
    return list(existing.values())


def make_monthly_reports(
    today: date | None = None, render: Render | None = None, now: datetime | None = None
) -> Summary:
    """Last month's reports for every branch, in its readers' languages, and those of earlier
    months that failed or are still due; then the notifications of what is complete.
    Idempotent: a report made is never made again, a reader told is never told again."""
    month, _last = last_month(today or local_today())
    _rows_of_month(month)
    summary = Summary()
    due = db.session.scalars(
        sa.select(MonthlyReport)
        .where(MonthlyReport.status != ReportStatus.READY)
        .order_by(MonthlyReport.month, MonthlyReport.branch_id, MonthlyReport.id)
    ).all()
    for row in due:
        if make(row, render):
            summary.made += 1
        else:
            summary.failed += 1
    summary.notified = notify_complete(now or utcnow())
    return summary


def notify_complete(now: datetime) -> int:
    """Tell each reader of each branch that a month's reports are ready, once all of them
    are, in the reader's language (with its e-mail copy where switched on)."""
    ready = db.session.scalars(
        sa.select(MonthlyReport).where(MonthlyReport.status == ReportStatus.READY)
    ).all()
    complete: dict[tuple[int, date, str], list[MonthlyReport]] = {}
    for row in ready:
        complete.setdefault((row.branch_id, row.month, row.language), []).append(row)
    posted = 0
    for (branch_id, month, language), rows in sorted(complete.items()):
        if len(rows) < len(KINDS):
            continue
        messages = {}
        for reader in readers(branch_id):
            if inbox.locale_of(reader) != language:
                continue
            key = f"monthly_report:{reader.id}:{branch_id}:{month:%Y-%m}"
            messages[key] = (reader, _message(rows, language), LINK)
        posted += inbox.post(NotificationKind.MONTHLY_REPORT, messages, now)
        db.session.commit()
    return posted


def _message(rows: list[MonthlyReport], language: str) -> inbox.Message:
    with force_locale(language):
        branch, month = rows[0].branch.name, month_text(rows[0].month)
        title = _("Reports for %(branch)s, %(month)s, are ready", branch=branch, month=month)
        body = "\n".join(f"· {title_of(r)}" for r in sorted(rows, key=lambda r: r.kind.value))
        sms = _("%(title)s. Open them under Reports.", title=title)
        return inbox.Message(title=title[: inbox.TITLE_LIMIT], body=body, sms=sms)


# --- what a reader sees -----------------------------------------------------------------------


def visible_to(user: Staff) -> sa.ColumnElement[bool]:
    """The reports ``user`` may open: a manager their branch's, an admin all."""
    if user.role == Role.ADMIN:
        return sa.true()
    if user.role == Role.MANAGER and user.branch_id is not None:
        return MonthlyReport.branch_id == user.branch_id
    return sa.false()


def reports_for(user: Staff, limit: int = 120) -> list[MonthlyReport]:
    """The newest reports ``user`` may open: newest month first, then by branch, those in
    the user's language before others, each month's three in the notebooks' order."""
    rows = db.session.scalars(
        sa.select(MonthlyReport)
        .join(Branch, Branch.id == MonthlyReport.branch_id)
        .where(visible_to(user))
        .order_by(MonthlyReport.month.desc(), Branch.name)
        .limit(limit)
    ).all()
    own = inbox.locale_of(user)
    return sorted(
        rows,
        key=lambda r: (
            -r.month.toordinal(),
            r.branch.name,
            r.language != own,
            r.language,
            KINDS.index(r.kind),
        ),
    )


def get_report_or_404(report_id: int, user: Staff) -> MonthlyReport:
    """A report ``user`` may open, or 404 whether it exists or not."""
    row = db.session.scalar(
        sa.select(MonthlyReport).where(MonthlyReport.id == report_id, visible_to(user))
    )
    if row is None:
        abort(404)
    return row


def request_remake(row: MonthlyReport, actor: Staff) -> None:
    """Queue the report to be made again (its file went missing); the caller commits.
    Raises ``crm.core.jobs.JobBusy`` while other long work is under way."""
    queue.enqueue(REMAKE, {"report_id": row.id}, actor)
    row.status, row.error = ReportStatus.PENDING, None


def being_made(row: MonthlyReport) -> bool:
    """Whether the report is queued or running as long work right now."""
    job = queue.under_way()
    return (
        job is not None
        and job.kind == REMAKE
        and int((job.params or {}).get("report_id", 0)) == row.id
    )


def remake_job(params: dict, progress: Callable[[int, int], None]) -> dict:
    """The queued remake as the scheduler process runs it."""
    row = db.session.get(MonthlyReport, int(params["report_id"]))
    if row is None or stored_file(row) is not None:
        return {"made": 0}
    progress(0, 1)
    if not make(row):
        raise RuntimeError(row.error or "the report could not be made")
    progress(1, 1)
    return {"made": 1}
