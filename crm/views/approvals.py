"""Approval requests (审批申请): staff ask for a refused plan; the branch's managers decide."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from crm.core import access
from crm.core.clock import local_today
from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.forms import ApprovalDecisionForm, ApprovalRequestForm
from crm.services.experiences import plans
from crm.services.management import approvals
from crm.services.planning import budget

bp = Blueprint("approvals", __name__)

INVALID = 422


def _prefill(form: ApprovalRequestForm) -> None:
    """The refused plan, carried over from the planning page's link."""
    args = request.args
    form.category.data = args.get("category", "visit")
    try:
        form.due_on.data = date.fromisoformat(args.get("due_on", ""))
    except ValueError:
        form.due_on.data = local_today()
    form.planned_cost.data = args.get("planned_cost", "")
    form.notes.data = args.get("notes", "")


@bp.route("/customers/<id:customer_id>/approvals/new", methods=["GET", "POST"])
@login_required
def ask(customer_id: int):
    customer = access.get_customer_or_404(customer_id, current_user)
    form = ApprovalRequestForm()
    status = 200
    if request.method == "GET":
        _prefill(form)
    if form.validate_on_submit():
        try:
            approvals.request_approval(current_user, customer, form.domain_data())
        except InvalidInput as error:
            db.session.rollback()
            form.show(error)
            status = INVALID
        else:
            db.session.commit()
            flash(_("Your request waits for a branch manager's approval."), "success")
            return redirect(url_for("customers.show", customer_id=customer.id))
    elif request.method == "POST":
        status = INVALID
    return render_template(
        "approvals/ask.html",
        form=form,
        customer=customer,
        budget=budget.budget_for(customer),
    ), status


@bp.route("/approvals")
@login_required
def index():
    return render_template(
        "approvals/index.html",
        waiting=approvals.waiting(current_user),
        mine=approvals.mine(current_user),
        may_decide=approvals.may_decide(current_user),
        form=ApprovalDecisionForm(),
    )


@bp.route("/approvals/<id:request_id>/<any(approve, decline):decision>", methods=["POST"])
@login_required
def decide(request_id: int, decision: str):
    approval = approvals.get_request_or_404(request_id, current_user)
    form = ApprovalDecisionForm()
    if form.validate_on_submit():
        try:
            if decision == "approve":
                approvals.approve(current_user, approval, form.domain_data())
            else:
                approvals.decline(current_user, approval, form.domain_data())
        except InvalidInput as error:
            db.session.rollback()
            for message in error.errors.values():
                flash(str(message), "error")
        else:
            db.session.commit()
            if decision == "approve":
                flash(_("Approved: the experience is planned."), "success")
            else:
                flash(_("Declined: the staff member is told why."), "success")
    else:
        flash(_("The form has expired: please try again."), "error")
    return redirect(url_for("approvals.index"))


def ask_link(customer_id: int, data) -> str | None:
    """Where staff whose plan was refused may ask for approval instead (None: a manager,
    who approves it themselves on the planning page)."""
    if plans.may_approve(current_user):
        return None
    due_on = data.get("due_on")
    return url_for(
        "approvals.ask",
        customer_id=customer_id,
        category=data.get("category") or "",
        due_on=due_on.isoformat() if isinstance(due_on, date) else "",
        planned_cost=data.get("planned_cost") or "",
        notes=data.get("notes") or "",
    )
