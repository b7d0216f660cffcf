"""The manager's dashboard (charts of the book over months), the monthly ranking, and seed
003's two sheets as files."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from crm.core import access
from crm.core.clock import business_zone, local_today
from crm.core.inputs import MAX_ID, read_date
from crm.extensions import db
from crm.models import Branch
from crm.models.enums import Role
from crm.services.followup import complaints
from crm.services.management import dashboard, period, ranking, sheets
from crm.views.dashboard_charts import (
    charts,
    directions,
    in_wan,
    measures_with_targets,
    quadrant_names,
)
from crm.views.roles import manager_required

bp = Blueprint("dashboard", __name__)


def _scope(errors: list[str]) -> dashboard.Scope:
    """A manager's branch; an admin's chosen one (``?branch=``), or every branch."""
    chosen = request.args.get("branch", "")
    branch_id = None
    if current_user.role == Role.ADMIN and chosen:
        wanted = int(chosen) if chosen.isdigit() and len(chosen) <= len(str(MAX_ID)) else None
        branch = db.session.get(Branch, wanted) if wanted and wanted <= MAX_ID else None
        if branch is None:
            errors.append(_("There is no such branch; every branch is shown."))
        else:
            branch_id = branch.id
    return dashboard.scope_for(current_user, branch_id)


@bp.route("/dashboard")
@manager_required
def index():
    """Quadrants, migrations, assets, budgets, seed 003's measures and the complaint SLA,
    month by month, each chart with its numbers."""
    chosen = period.read_period(
        request.args.get("from"),
        request.args.get("to"),
        period.last_twelve_months(local_today()),
    )
    errors = list(chosen.errors)
    scope = _scope(errors)
    board = dashboard.board(scope, chosen)
    return render_template(
        "dashboard/index.html",
        board=board,
        charts=charts(board),
        quadrant_names=quadrant_names(),
        measures=measures_with_targets(),
        in_wan=in_wan,
        directions=directions,
        sla_days=complaints.sla().days,
        branches=access.visible_branches(current_user),
        errors=errors,
    ), (400 if errors else 200)


@bp.route("/dashboard/ranking")
@login_required
def ranking_page():
    """The branch's monthly ranking: managers see their branch's (admins any), staff their
    own branch's."""
    errors: list[str] = []
    today = local_today()
    asked = request.args.get("month", "")
    first = read_date(f"{asked}-01") if asked else None
    if asked and first is None:
        errors.append(_("Enter the month as YYYY-MM; this month is shown instead."))
    month = ranking.month_of(first or today)
    branches = access.visible_branches(current_user)
    branch = branches[0] if branches else None
    if current_user.role == Role.ADMIN and request.args.get("branch"):
        wanted = request.args["branch"]
        branch = next((b for b in branches if str(b.id) == wanted), None)
        if branch is None:
            errors.append(_("There is no such branch; the first branch is shown."))
            branch = branches[0] if branches else None
    elif current_user.role == Role.STAFF:
        branch = current_user.branch
    by = request.args.get("by") or ranking.COLUMNS[0]
    if by not in ranking.COLUMNS:
        errors.append(_("Rank by one of the columns; call-backs made are used instead."))
        by = ranking.COLUMNS[0]
    table = (
        ranking.ranking(branch.id, month, by, zone=business_zone()) if branch is not None else None
    )
    return render_template(
        "dashboard/ranking.html",
        table=table,
        month=month,
        branch=branch,
        branches=branches if current_user.role == Role.ADMIN else [],
        by=by,
        columns=ranking.COLUMNS,
        errors=errors,
    ), (400 if errors else 200)


@bp.route("/followup/sheets/<kind>.<format>")
@manager_required
def sheet_file(kind: str, format: str):
    """有效回访统计表 or 客户投诉情况统计表 for a period, as XLSX or CSV."""
    if kind not in sheets.KINDS or format not in sheets.FORMATS:
        abort(404)
    chosen = period.read_period(
        request.args.get("from"),
        request.args.get("to"),
        period.this_month(local_today()),
        max_months=None,
    )
    if chosen.errors:
        for error in chosen.errors:
            flash(error, "error")
        return redirect(url_for("followup.overview"))
    made = sheets.sheet(kind, access.customer_scope(current_user), chosen.start, chosen.end)
    return Response(
        made.content(format),
        mimetype=made.mimetype(format),
        headers={"Content-Disposition": f'attachment; filename="{made.file_name(format)}"'},
    )
