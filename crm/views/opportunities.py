"""Opportunities (商机): list, open (from a dossier, an experience or a call-back), revise,
move a stage, lose with a reason, win by recording the policy."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from crm.core import access, audit, revisions
from crm.core.clock import local_today
from crm.core.inputs import InvalidInput, as_id
from crm.extensions import db
from crm.models import Opportunity
from crm.models.enums import OpportunitySource
from crm.sales_forms import MoveForm, OpportunityForm, WinForm
from crm.services.customers import suitability
from crm.services.sales import opportunities, pipeline, stages
from crm.views.forms import refuse_stale, version_of
from crm.views.helpers import label

bp = Blueprint("opportunities", __name__)

STATES = ("open", "won", "lost")


def _opportunity_or_404(opportunity_id: int) -> Opportunity:
    return access.get_of_customer_or_404(Opportunity, opportunity_id, current_user)


def _back(default: str) -> str:
    """Where a card's action returns: the board or list it was on, never another site."""
    target = request.form.get("next") or ""
    return target if target.startswith(("/pipeline", "/opportunities")) else default


@bp.route("/opportunities")
@login_required
def index():
    state = request.args.get("state", "open")
    state = state if state in STATES else "open"
    return render_template(
        "sales/opportunities.html",
        rows=pipeline.opportunities_of(current_user, state),
        state=state,
        states=STATES,
    )


@bp.route("/opportunities/new", methods=["GET", "POST"])
@login_required
def new():
    customer = access.get_customer_or_404(
        as_id(request.values.get("customer_id")) or 0, current_user
    )
    form = OpportunityForm()
    form.fill_products(suitability.offered(customer))
    if request.method == "GET":
        # Prefilled from what produced it: an experience or a call-back that showed interest.
        form.expected_close_on.data = local_today() + timedelta(days=30)
        for field, source in (
            ("experience_id", OpportunitySource.EXPERIENCE),
            ("callback_id", OpportunitySource.CALLBACK),
        ):
            if request.args.get(field):
                form[field].data = request.args[field]
                form.source.data = source.value
    if form.validate_on_submit():
        try:
            found = opportunities.open_opportunity(current_user, customer, form.domain_data())
        except InvalidInput as error:
            db.session.rollback()
            form.show(error)
        else:
            db.session.commit()
            flash(_("Opportunity opened."), "success")
            return redirect(url_for("opportunities.show", opportunity_id=found.id))
    return render_template(
        "sales/opportunity_form.html", form=form, customer=customer, opportunity=None
    )


@bp.route("/opportunities/<id:opportunity_id>", methods=["GET", "POST"])
@login_required
def show(opportunity_id: int):
    found = _opportunity_or_404(opportunity_id)
    customer = found.customer
    form = OpportunityForm(data=_values(found) if request.method == "GET" else None)
    form.fill_products(suitability.offered(customer, found.product_id))
    missed = None
    if found.is_open and form.validate_on_submit():
        try:
            changes = opportunities.update_opportunity(
                current_user, found, form.domain_data(), version_of(form.version.data)
            )
        except InvalidInput as error:
            db.session.rollback()
            form.show(error)
        except revisions.StaleDossier as stale:
            missed = stale.missed
            refuse_stale(form, version=found)
        else:
            db.session.commit()
            flash(_("Opportunity saved.") if changes else _("Nothing changed."), "success")
            return redirect(url_for("opportunities.show", opportunity_id=found.id))
    elif request.method == "GET":
        form.version.data = found.version
    history = opportunities.history(found)
    return render_template(
        "sales/opportunity.html",
        opportunity=found,
        customer=customer,
        form=form,
        move=MoveForm(data={"version": found.version}),
        next_stage=stages.next_stage(found.stage),
        probability=stages.probabilities().get(found.stage),
        missed=missed,
        history=history,
        names=audit.referenced_names(history, lambda c: access.can_see_customer(current_user, c)),
    )


def _values(found: Opportunity) -> dict:
    return {
        "product_id": str(found.product_id),
        "expected_premium": f"{found.expected_premium:.2f}",
        "payment_mode": found.payment_mode.value,
        "expected_close_on": found.expected_close_on,
        "source": found.source.value,
        "experience_id": found.experience_id or "",
        "callback_id": found.callback_id or "",
        "group_event_id": found.group_event_id or "",
        "notes": found.notes or "",
    }


@bp.route("/opportunities/<id:opportunity_id>/advance", methods=["POST"])
@login_required
def advance(opportunity_id: int):
    """One action on a card: to the next stage."""
    found = _opportunity_or_404(opportunity_id)
    form = MoveForm()
    back = _back(url_for("opportunities.show", opportunity_id=found.id))
    try:
        stage = opportunities.advance(current_user, found, version_of(form.version.data))
    except InvalidInput as error:
        db.session.rollback()
        flash(" ".join(str(m) for m in error.errors.values()), "error")
    except revisions.StaleDossier:
        db.session.rollback()
        flash(_("Someone else moved this opportunity first; here is where it stands."), "error")
    else:
        db.session.commit()
        flash(
            _(
                "%(customer)s: moved to %(stage)s.",
                customer=found.customer.name,
                stage=label("sales_stage", stage),
            ),
            "success",
        )
    return redirect(back)


@bp.route("/opportunities/<id:opportunity_id>/lose", methods=["POST"])
@login_required
def lose(opportunity_id: int):
    found = _opportunity_or_404(opportunity_id)
    form = MoveForm()
    back = _back(url_for("opportunities.show", opportunity_id=found.id))
    try:
        opportunities.lose(
            current_user, found, form.lost_reason.data, version_of(form.version.data)
        )
    except InvalidInput as error:
        db.session.rollback()
        flash(" ".join(str(m) for m in error.errors.values()), "error")
    except revisions.StaleDossier:
        db.session.rollback()
        flash(_("Someone else moved this opportunity first; here is where it stands."), "error")
    else:
        db.session.commit()
        flash(_("%(customer)s: recorded as lost.", customer=found.customer.name), "success")
    return redirect(back)


@bp.route("/opportunities/<id:opportunity_id>/win", methods=["GET", "POST"])
@login_required
def win(opportunity_id: int):
    """The sale (成交): the policy, with seed 000's compliance record where it is needed."""
    found = _opportunity_or_404(opportunity_id)
    if not found.is_open:
        abort(404)
    form = WinForm()
    if request.method == "GET":
        form.premium.data = f"{found.expected_premium:.2f}"
        form.payment_mode.data = found.payment_mode.value
        form.start_date.data = local_today()
        form.version.data = found.version
    missed = None
    if form.validate_on_submit():
        try:
            policy = opportunities.win(
                current_user, found, form.domain_data(), version_of(form.version.data)
            )
        except InvalidInput as error:
            db.session.rollback()
            form.show(error)
        except revisions.StaleDossier as stale:
            missed = stale.missed
            refuse_stale(form, version=found)
        else:
            db.session.commit()
            flash(_("Sale recorded: policy %(number)s.", number=policy.policy_number), "success")
            return redirect(url_for("customers.show", customer_id=found.customer_id))
    return render_template(
        "sales/win.html",
        form=form,
        opportunity=found,
        customer=found.customer,
        investment=opportunities.needs_compliance(found),
        missed=missed,
    )
