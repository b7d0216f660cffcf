"""Admins manage staff, branches, thresholds, the experience matrix and the churn weights
(which managers may read). Others get 404."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.forms import BranchForm, StaffForm, ThresholdsForm
from crm.models import Branch, Staff
from crm.services.accounts import staffing
from crm.services.customers import asset_tiers, retiering, tiering
from crm.services.outreach import template_admin
from crm.services.planning import matrix
from crm.services.retention import signals, weight_admin
from crm.views.roles import admin_required, manager_required

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
    """The templates by content kind (seed 004), and a form to write one for a kind, a quadrant
    and a language."""
    return render_template(
        "admin/sms_templates.html",
        grouped=template_admin.by_kind(),
        kinds=template_admin.KIND_NAMES,
        locales=template_admin.LOCALES,
        quadrant_of=template_admin.quadrant_of,
    )


@bp.route("/sms-templates/new")
@admin_required
def sms_template_new():
    kind, quadrant = request.args.get("kind", ""), request.args.get("quadrant", "")
    key = f"{kind}.{quadrant}" if quadrant else kind
    return redirect(url_for("admin.sms_template", key=key, locale=request.args.get("locale", "")))


@bp.route("/sms-templates/<key>/<locale>", methods=["GET", "POST"])
@admin_required
def sms_template(key: str, locale: str):
    """Edit one template (or write a new one for a kind and quadrant): checked before saving,
    previewed on a real customer (of its quadrant, where it has one) with names masked."""
    template = template_admin.get_or_new(key, locale) or abort(404)
    body, active = template.body, template.active
    errors, shown = {}, None
    if request.method == "POST":
        body, active = request.form.get("body", ""), bool(request.form.get("active"))
        sample = template_admin.sample_customer(key)
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
        kind=template_admin.kind_name(key),
        quadrant=template_admin.quadrant_of(key),
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
        tier_limits=matrix.customer_limits().by_tier,
        tiers=asset_tiers.current_tiers(),
        fingerprint=matrix.fingerprint(),
        submitted=submitted,
        errors=errors,
    )


@bp.route("/churn-weights", methods=["GET", "POST"])
@manager_required
def churn_weights():
    """The churn weights (流失预警权重): managers read them; admins change them, and may first
    preview how many customers each level would hold under the weights they typed."""
    submitted: dict[str, str] = {}
    errors: dict = {}
    preview = None
    if request.method == "POST":
        if not current_user.is_admin:
            abort(404)
        submitted = request.form.to_dict()
        try:
            if request.form.get("preview"):
                preview = weight_admin.preview(weight_admin.read(submitted))
            else:
                changes = weight_admin.save(current_user, submitted)
                db.session.commit()
                flash(
                    _("Churn weights saved. They apply from the next nightly scoring.")
                    if changes
                    else _("Nothing changed."),
                    "success" if changes else "info",
                )
                return redirect(url_for("admin.churn_weights"))
        except InvalidInput as error:
            db.session.rollback()
            errors = error.errors
            # Saving again after a refusal applies what the admin typed, knowingly.
            submitted["fingerprint"] = weight_admin.fingerprint()
    return render_template(
        "admin/churn_weights.html",
        rows=weight_admin.rows(),
        levels=weight_admin.levels_now(),
        preview=preview,
        fingerprint=weight_admin.fingerprint(),
        submitted=submitted,
        errors=errors,
        medium_from=signals.MEDIUM_FROM,
        high_from=signals.HIGH_FROM,
        max_weight=signals.MAX_WEIGHT,
    )
