"""Admins manage staff, branches, thresholds and the experience matrix. Others get 404."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.forms import BranchForm, StaffForm, ThresholdsForm
from crm.models import Branch, Customer, Staff
from crm.services.accounts import staffing
from crm.services.customers import asset_tiers, retiering, tiering
from crm.services.outreach import template_admin
from crm.services.planning import matrix
from crm.views.roles import admin_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _get_or_404(model, ident: int):
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    return obj


def _branch_choices():
    branches = db.session.scalars(sa.select(Branch).order_by(Branch.name))
    return [SelectChoice("", "—"), *(SelectChoice(b.id, b.name) for b in branches)]


@bp.route("/staff")
@admin_required
def staff_index():
    staff = db.session.scalars(sa.select(Staff).order_by(Staff.username)).all()
    return render_template("admin/staff_index.html", staff=staff)


@bp.route("/staff/new", methods=["GET", "POST"], defaults={"staff_id": None})
@bp.route("/staff/<id:staff_id>/edit", methods=["GET", "POST"])
@admin_required
def staff_form(staff_id: int | None):
    member = _get_or_404(Staff, staff_id) if staff_id is not None else None
    if request.method == "GET" and member is not None:
        form = StaffForm(obj=member)
        form.role.data = member.role.value
        form.language.data = member.language or ""
    else:
        form = StaffForm()
    form.branch_id.choices = _branch_choices()
    if form.validate_on_submit():
        try:
            if member is None:
                staffing.create_staff(current_user, form.domain_data())
            else:
                staffing.update_staff(current_user, member, form.domain_data())
        except InvalidInput as error:
            db.session.rollback()
            form.show(error)
        else:
            db.session.commit()
            flash(_("Staff account saved."), "success")
            return redirect(url_for("admin.staff_index"))
    return render_template("admin/staff_form.html", form=form, member=member)


@bp.route("/branches")
@admin_required
def branch_index():
    counts = dict(
        db.session.execute(
            sa.select(Staff.branch_id, sa.func.count()).group_by(Staff.branch_id)
        ).all()
    )
    branches = db.session.scalars(sa.select(Branch).order_by(Branch.name)).all()
    return render_template("admin/branch_index.html", branches=branches, staff_counts=counts)


@bp.route("/branches/new", methods=["GET", "POST"], defaults={"branch_id": None})
@bp.route("/branches/<id:branch_id>/edit", methods=["GET", "POST"])
@admin_required
def branch_form(branch_id: int | None):
    branch = _get_or_404(Branch, branch_id) if branch_id is not None else None
    if request.method == "GET" and branch is not None:
        form = BranchForm(obj=branch)
        form.stage.data = branch.stage.value
    else:
        form = BranchForm()
    if form.validate_on_submit():
        try:
            staffing.save_branch(current_user, form.domain_data(), branch)
        except InvalidInput as error:
            db.session.rollback()
            form.show(error)
        else:
            db.session.commit()
            flash(_("Branch saved."), "success")
            return redirect(url_for("admin.branch_index"))
    return render_template("admin/branch_form.html", form=form, branch=branch)


@bp.route("/settings", methods=["GET", "POST"])
@admin_required
def settings():
    """Tiering thresholds; saving them queues the re-tier of every customer for the scheduler
    process, and the page shows how far it has got."""
    current = tiering.current_thresholds()
    form = ThresholdsForm(
        data={
            "capability_threshold": f"{current.capability:.2f}",
            "willingness_threshold": str(current.willingness),
        }
        if request.method == "GET"
        else None
    )
    if form.validate_on_submit():
        try:
            wanted = tiering.parse_thresholds(
                form.capability_threshold.data, form.willingness_threshold.data
            )
            retiering.queue_threshold_change(current_user, wanted)
        except InvalidInput as error:
            db.session.rollback()
            form.show(error)
        else:
            db.session.commit()
            flash(
                _("Thresholds saved. Every customer is re-tiered in the background; see below."),
                "success",
            )
            return redirect(url_for("admin.settings"))
    return render_template(
        "admin/settings.html", form=form, current=current, job=retiering.latest_retier()
    )


@bp.route("/asset-tiers", methods=["GET", "POST"])
@admin_required
def asset_tiers_page():
    """Asset tiers (资产分层): the bounds of liquid assets between tiers, audited."""
    text, errors = asset_tiers.as_text(asset_tiers.current_bounds()), {}
    if request.method == "POST":
        text = request.form.get("tiers", "")
        try:
            asset_tiers.save_tiers(current_user, asset_tiers.parse_tiers(text))
        except InvalidInput as error:
            db.session.rollback()
            errors = error.errors
        else:
            db.session.commit()
            flash(_("Asset tiers saved."), "success")
            return redirect(url_for("admin.asset_tiers_page"))
    return render_template(
        "admin/asset_tiers.html", text=text, errors=errors, tiers=asset_tiers.current_tiers()
    )


@bp.route("/sms-templates")
@admin_required
def sms_templates():
    return render_template("admin/sms_templates.html", templates=template_admin.templates())


@bp.route("/sms-templates/<key>/<locale>", methods=["GET", "POST"])
@admin_required
def sms_template(key: str, locale: str):
    """Edit one template: checked before saving, previewed on a customer with names masked."""
    template = template_admin.get(key, locale) or abort(404)
    body, active = template.body, template.active
    errors, shown = {}, None
    if request.method == "POST":
        body, active = request.form.get("body", ""), bool(request.form.get("active"))
        sample = db.session.scalar(sa.select(Customer).order_by(Customer.id).limit(1))
        try:
            if request.form.get("preview"):
                shown = template_admin.preview(body, sample, current_user, locale)
            else:
                template_admin.save(current_user, template, body, active)
                db.session.commit()
                flash(_("Template saved."), "success")
                return redirect(url_for("admin.sms_templates"))
        except InvalidInput as error:
            db.session.rollback()
            errors = error.errors
    return render_template(
        "admin/sms_template_form.html",
        template=template,
        body=body,
        active=active,
        errors=errors,
        shown=shown,
        placeholders=template_admin.PLACEHOLDERS,
    )


@bp.route("/matrix", methods=["GET", "POST"], endpoint="matrix")
@admin_required
def matrix_page():
    """The experience matrix (客户体验矩阵): marks, cadences, unit costs and cost limits."""
    submitted: dict[str, str] = {}
    errors: dict = {}
    if request.method == "POST":
        submitted = request.form.to_dict()
        try:
            changes = matrix.update_matrix(current_user, submitted)
        except InvalidInput as error:
            db.session.rollback()
            errors = error.errors
        else:
            db.session.commit()
            if changes:
                flash(_("Experience matrix saved."), "success")
            else:
                flash(_("Nothing changed."), "info")
            return redirect(url_for("admin.matrix"))
    return render_template(
        "admin/matrix.html",
        categories=matrix.categories(),
        rules=matrix.rules(),
        limits=matrix.cost_limits(),
        fingerprint=matrix.fingerprint(),
        submitted=submitted,
        errors=errors,
    )
