"""Maturity follow-up pages (seed 003): a staff member's call-backs, complaints, and the
manager's page of outcomes against the seed's targets."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from crm.core import access, revisions
from crm.core.clock import business_zone, local_today
from crm.core.dates import time_text
from crm.core.inputs import EARLIEST_DATE, InvalidInput, as_id, latest_date, read_date
from crm.extensions import db
from crm.form_fields import product_choices
from crm.forms import AnswerForm, CallbackForm, ComplaintForm
from crm.services.customers import suitability
from crm.services.followup import calls, complaints, targets
from crm.services.followup.hints import hint_for
from crm.services.management import team
from crm.services.sales import opportunities
from crm.views.forms import refuse_stale, version_of
from crm.views.helpers import label
from crm.views.roles import manager_required

bp = Blueprint("followup", __name__)

INVALID = 422  # a form sent back with the domain's messages
STALE = 409  # someone else saved first


def local_time(moment) -> str:
    """A stored instant as the business's clock shows it (due times are the branch's)."""
    return time_text(moment, business_zone())


@bp.app_template_filter("business_time")
def business_time(moment) -> str:
    return local_time(moment)


# --- call-backs ----------------------------------------------------------------------------


@bp.route("/callbacks")
@login_required
def callbacks():
    """The signed-in staff member's open call-backs, most urgent first, with the day's quota;
    or (?owner=, from the team page) a team member's, read-only."""
    owner = team.member_in_reach(current_user, as_id(request.args.get("owner")))
    if owner is None:
        abort(404)
    day = calls.day_of_callbacks(owner)
    shelf = suitability.active_products()
    hints = {c.id: hint_for(c.customer, day.today, shelf) for c in day.open}
    return render_template("followup/callbacks.html", day=day, hints=hints, owner=owner)


@bp.route("/callbacks/<id:callback_id>/record", methods=["GET", "POST"])
@login_required
def record_callback(callback_id: int):
    callback = calls.get_callback_or_404(callback_id, current_user)
    form = CallbackForm()
    if request.method == "GET":
        form.version.data = callback.version
    status = 200
    if form.validate_on_submit():
        customer, number = callback.customer, callback.policy.policy_number
        try:
            recorded = calls.record_callback(
                current_user, callback, form.domain_data(), version_of(form.version.data)
            )
        except InvalidInput as error:
            db.session.rollback()
            form.show(error)
            status = INVALID
        except revisions.StaleDossier:
            refuse_stale(
                form,
                _("Someone else changed this customer or call-back while you were recording."),
                version=callback,
            )
            status = STALE
        else:
            db.session.commit()
            message = _(
                "Call-back recorded: %(name)s, policy %(number)s — %(intent)s.",
                name=customer.name,
                number=number,
                intent=label("callback_intent", form.intent.data),
            )
            if recorded.moved_to is not None:
                message += " " + _(
                    "The customer moved from %(a)s to %(b)s.",
                    a=label("quadrant", recorded.moved_from),
                    b=label("quadrant", recorded.moved_to),
                )
            flash(message, "success")
            # A new policy in mind: the list offers to open an opportunity (商机) from it.
            return redirect(url_for("followup.callbacks", **opportunities.offer_after(callback)))
        callback = calls.get_callback_or_404(callback_id, current_user)
        form.version.data = callback.version
    elif request.method == "POST":
        status = INVALID
    if calls.already_recorded(callback) and not form.form_errors:
        form.form_errors.append(str(calls.ALREADY_RECORDED))
    form.product_id.choices = product_choices(suitability.suitable_products(callback.customer))
    return render_template(
        "followup/record.html",
        form=form,
        callback=callback,
        customer=callback.customer,
        hint=hint_for(callback.customer),
        within=suitability.WITHIN[callback.customer.risk_level],
    ), status


# --- complaints ------------------------------------------------------------------------------


@bp.route("/complaints")
@login_required
def complaints_index():
    """Open complaints soonest due first (the overdue marked), and the recently answered;
    (?owner=, from the team page) those of a team member's customers, read-only."""
    owner_id = as_id(request.args.get("owner"))
    owner = team.member_in_reach(current_user, owner_id)
    if owner is None:
        abort(404)
    board = complaints.board(owner, owner_only=True) if owner_id else complaints.board(owner)
    return render_template(
        "followup/complaints.html",
        board=board,
        is_overdue=complaints.is_overdue,
        owner=owner if owner_id else current_user,
    )


@bp.route("/customers/<id:customer_id>/complaints/new", methods=["GET", "POST"])
@login_required
def open_complaint(customer_id: int):
    customer = access.get_customer_or_404(customer_id, current_user)
    form = ComplaintForm()
    status = INVALID if request.method == "POST" else 200
    if form.validate_on_submit():
        before = customer.quadrant
        try:
            complaint = complaints.open_complaint(current_user, customer, form.domain_data())
        except InvalidInput as error:
            db.session.rollback()
            form.show(error)
        else:
            db.session.commit()
            message = _(
                "Complaint recorded. A definite answer is due by %(when)s.",
                when=local_time(complaint.due_at),
            )
            if customer.quadrant != before:
                message += " " + _(
                    "The customer moved from %(a)s to %(b)s.",
                    a=label("quadrant", before),
                    b=label("quadrant", customer.quadrant),
                )
            flash(message, "success")
            return redirect(
                url_for("customers.show", customer_id=customer.id, _anchor="complaints")
            )
    return render_template(
        "followup/complaint_form.html", form=form, customer=customer, sla=complaints.sla().days
    ), status


@bp.route("/complaints/<id:complaint_id>/answer", methods=["GET", "POST"])
@login_required
def answer_complaint(complaint_id: int):
    complaint = complaints.get_complaint_or_404(complaint_id, current_user)
    form = AnswerForm()
    if request.method == "GET":
        form.version.data = complaint.version
    status = 200
    if form.validate_on_submit():
        try:
            complaints.answer_complaint(
                current_user, complaint, form.domain_data(), version_of(form.version.data)
            )
        except InvalidInput as error:
            db.session.rollback()
            form.show(error)
            status = INVALID
        except revisions.StaleDossier:
            refuse_stale(
                form,
                _("Someone else answered or changed this complaint while you were writing."),
                version=complaint,
            )
            status = STALE
        else:
            db.session.commit()
            if complaints.is_overdue(complaint):
                flash(_("Complaint answered, after its due time."), "warning")
            else:
                flash(_("Complaint answered within its due time."), "success")
            return redirect(url_for("followup.complaints_index"))
        complaint = complaints.get_complaint_or_404(complaint_id, current_user)
        form.version.data = complaint.version
    elif request.method == "POST":
        status = INVALID
    if complaints.already_answered(complaint) and not form.form_errors:
        form.form_errors.append(str(complaints.ALREADY_ANSWERED))
    return render_template(
        "followup/answer_form.html",
        form=form,
        complaint=complaint,
        customer=complaint.customer,
        overdue=complaints.is_overdue(complaint),
    ), status


# --- the manager's page ---------------------------------------------------------------------


def _month(today: date) -> tuple[date, date]:
    first = today.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def _period(args) -> tuple[date, date, list[str]]:
    """The period asked for (default: this month), or the default with what was wrong."""
    start, end = _month(local_today())
    errors = []
    asked = {name: read_date(args[name]) if args.get(name) else None for name in ("from", "to")}
    if any(args.get(name) and day is None for name, day in asked.items()):
        errors.append(
            _(
                "Enter dates as YYYY-MM-DD from %(earliest)s to %(latest)s; "
                "this month is shown instead.",
                earliest=EARLIEST_DATE.isoformat(),
                latest=latest_date().isoformat(),
            )
        )
    else:
        start, end = asked["from"] or start, asked["to"] or end
    if end < start:
        errors.append(_("The period ends before it starts; this month is shown instead."))
        start, end = _month(local_today())
    return start, end, errors


@bp.route("/followup")
@manager_required
def overview():
    """Targets against actuals per staff member, branch or channel, and overall."""
    start, end, errors = _period(request.args)
    split = request.args.get("split") or "staff"
    if split not in targets.SPLITS:
        errors.append(_("Split by staff member, branch or channel; staff members are shown."))
        split = "staff"
    rows = targets.outcomes(current_user, start, end, split)
    board = complaints.board(current_user)
    return render_template(
        "followup/overview.html",
        rows=rows,
        total=targets.overall(rows),
        targets=targets.targets_config(),
        measures=targets.MEASURES,
        start=start,
        end=end,
        split=split,
        splits=targets.SPLITS,
        errors=errors,
        pressing=board.pressing,
        now=board.now,
        is_overdue=complaints.is_overdue,
    ), (400 if errors else 200)
