"""The manager's team page (团队) and handing customers over (客户移交)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from crm import labels
from crm.core import access
from crm.core.inputs import InvalidInput, as_id
from crm.extensions import db
from crm.models import BackgroundJob, Staff
from crm.services.management import handover as handover_service
from crm.services.management import handover_jobs
from crm.services.management import team as team_service
from crm.views.roles import manager_required

bp = Blueprint("team", __name__)

INVALID = 422


@bp.route("/team")
@manager_required
def index():
    branches = access.visible_branches(current_user)
    branch_id = team_service.branch_shown(current_user, as_id(request.args.get("branch")), branches)
    page = team_service.team(branch_id) if branch_id is not None else None
    return render_template("team/index.html", page=page, branches=branches, branch_id=branch_id)


def _member(name: str) -> Staff | None:
    staff_id = as_id(request.form.get(name))
    return db.session.get(Staff, staff_id) if staff_id is not None else None


def _selection() -> handover_service.Selection:
    form = request.form
    return handover_service.selection_from(
        form.get("quadrant"), form.get("churn"), form.get("customer_ids")
    )


@bp.route("/customers/handover", methods=["GET", "POST"])
@manager_required
def handover():
    errors: dict = {}
    status = 200
    if request.method == "POST":
        try:
            result = handover_jobs.hand_over_or_queue(
                current_user,
                _member("giver"),
                _member("receiver"),
                _selection(),
                deactivate=request.form.get("deactivate") == "y",
            )
        except InvalidInput as error:
            db.session.rollback()
            errors, status = error.errors, INVALID
        else:
            db.session.commit()
            if isinstance(result, BackgroundJob):
                flash(
                    _(
                        "%(n)s customers are many for one request: the handover is queued and"
                        " runs in the background; this page shows how it goes.",
                        n="{:,}".format(result.params["customers"]),
                    ),
                    "success",
                )
                return redirect(url_for("team.handover"))
            flash(result.summary(), "success")
            if result.deactivated:
                flash(_("%(name)s is deactivated.", name=result.giver.display_name), "success")
            return redirect(url_for("team.index", branch=result.receiver.branch_id))
    return render_template(
        "team/handover.html",
        staff=handover_service.staff_choices(current_user),
        values=request.form if request.method == "POST" else {"giver": request.args.get("from")},
        errors=errors,
        quadrants=labels.choices(labels.QUADRANT),
        churn_levels=labels.choices(labels.CHURN_LEVEL),
        job=(job := handover_jobs.latest_handover()),
        job_summary=handover_jobs.summary_of(job) if job else None,
    ), status
