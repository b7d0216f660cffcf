"""The pipeline (销售管道): the board by stage, the funnel, the stage probabilities admins set."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from crm.core import access
from crm.core.clock import local_today
from crm.core.inputs import InvalidInput, read_date
from crm.extensions import db
from crm.models.enums import Role
from crm.sales_forms import MoveForm, ProbabilityForm
from crm.services.sales import funnel, pipeline, stages
from crm.views.roles import admin_required

bp = Blueprint("pipeline", __name__)


def _choices():
    """The staff and branches a user may narrow a board or funnel to."""
    if current_user.role == Role.STAFF:
        return [], []
    return access.owner_choices(current_user), access.visible_branches(current_user)


@bp.route("/pipeline")
@login_required
def board():
    owners, branches = _choices()
    shown = pipeline.board(current_user, request.args.get("owner"), request.args.get("branch"))
    return render_template(
        "sales/pipeline.html",
        board=shown,
        owners=owners,
        branches=branches,
        move=MoveForm(),
        here=request.full_path.rstrip("?"),
    )


@bp.route("/pipeline/funnel")
@login_required
def funnel_page():
    today = local_today()
    start = read_date(request.args.get("from")) or date(today.year, 1, 1)
    end = read_date(request.args.get("to")) or today
    invalid = end < start
    if invalid:
        start, end = end, start
    by = request.args.get("by", "owner")
    owners, branches = _choices()
    shown = funnel.funnel(
        current_user, start, end, by, request.args.get("owner"), request.args.get("branch")
    )
    return render_template(
        "sales/funnel.html",
        funnel=shown,
        stages=stages.FUNNEL_STAGES,
        dimensions=funnel.DIMENSIONS,
        owners=owners,
        branches=branches,
        swapped=invalid,
    )


@bp.route("/pipeline/probabilities", methods=["GET", "POST"])
@admin_required
def probabilities():
    current = stages.probabilities()
    form = ProbabilityForm(
        data={s.value: str(p) for s, p in current.items()} if request.method == "GET" else None
    )
    if form.validate_on_submit():
        try:
            stages.save_probabilities(current_user, form.domain_data())
        except InvalidInput as error:
            db.session.rollback()
            form.show(error)
        else:
            db.session.commit()
            flash(_("Stage probabilities saved."), "success")
            return redirect(url_for("pipeline.board"))
    return render_template("sales/probabilities.html", form=form)
