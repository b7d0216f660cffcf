"""Reports (月度报告) for managers: last month's reports of their branch (admins: every
branch's), to open or download, and a report of any period asked for here.

A report is a page of its own (one self-contained HTML file): it is served with a content
security policy of its own that lets its inline styles and ``data:`` charts show and still
runs no script at all.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from analytics import delivery, requests
from crm.core import jobs as queue
from crm.core.access import visible_branches
from crm.core.dates import date_text
from crm.extensions import db
from crm.labels import LANGUAGE
from crm.views.roles import manager_required

bp = Blueprint("reports", __name__)

INVALID = 422


@bp.route("/reports")
@manager_required
def index():
    """The reports the signed-in manager may open, newest month first, and the form that
    asks for one."""
    return _index_page(requests.blank_request(current_user), {})


def _index_page(asked: dict, errors: dict, status: int = 200):
    return (
        render_template(
            "reports/index.html",
            reports=delivery.reports_for(current_user),
            requested=requests.requested_by(current_user),
            branches=visible_branches(current_user),
            languages=LANGUAGE,
            kinds=delivery.report.TITLES,
            asked=asked,
            errors=errors,
            month_text=delivery.month_text,
            day_text=lambda text: date_text(date.fromisoformat(text)),
        ),
        status,
    )


@bp.route("/reports", methods=["POST"])
@manager_required
def ask():
    """Queue a report of the period, branch and language asked for (long work: the
    scheduler process makes it); bad input is refused with a message and nothing queued."""
    asked = {k: request.form.get(k, "").strip() for k in requests.FIELDS}
    try:
        job = requests.ask_for_report(current_user, asked)
    except requests.BadRequest as refused:
        db.session.rollback()
        return _index_page(asked, refused.errors, INVALID)
    except queue.JobBusy:
        db.session.rollback()
        flash(_("Other long work is under way; ask again in a few minutes."), "error")
        return _index_page(asked, {}, 409)
    db.session.commit()
    flash(_("The report is being made; it appears below when it is ready."), "success")
    return redirect(url_for("reports.index", _anchor=f"requested-{job.id}"))


@bp.route("/reports/<id:report_id>")
@manager_required
def open_report(report_id: int):
    row = delivery.get_report_or_404(report_id, current_user)
    return _send(row, as_attachment=False)


@bp.route("/reports/<id:report_id>/download")
@manager_required
def download(report_id: int):
    row = delivery.get_report_or_404(report_id, current_user)
    return _send(row, as_attachment=True)


def _send(row, as_attachment: bool):
    path = delivery.stored_file(row)
    if path is None:
        return _make_again(row)
    name = f"{row.branch.name}-{row.month:%Y-%m}-{row.kind.value}-{row.language}.html"
    return send_file(path, mimetype="text/html", as_attachment=as_attachment, download_name=name)


def _make_again(row):
    """A report whose file is missing (or not made yet) is queued to be made."""
    if delivery.being_made(row):
        flash(_("This report is being made; open it again in a few minutes."), "info")
        return redirect(url_for("reports.index"))
    try:
        delivery.request_remake(row, current_user)
    except queue.JobBusy:
        db.session.rollback()
        flash(_("Other long work is under way; open the report again in a few minutes."), "error")
        return redirect(url_for("reports.index"))
    db.session.commit()
    flash(_("The report's file was missing: it is being made again."), "info")
    return redirect(url_for("reports.index"))


@bp.route("/reports/requested/<id:job_id>")
@manager_required
def requested(job_id: int):
    path = requests.requested_file_or_404(job_id, current_user)
    return send_file(path, mimetype="text/html")
