"""Experiences on a dossier: plan one, record how it went; and the staff agenda."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from crm.core import access, revisions
from crm.core.clock import local_today
from crm.core.inputs import InvalidInput, as_id
from crm.extensions import db
from crm.form_fields import product_choices
from crm.forms import ExperienceForm, RecordForm
from crm.models import Experience
from crm.services.customers import suitability, tiering
from crm.services.experiences import plans, recording
from crm.services.management import team
from crm.services.planning import agenda as agenda_service
from crm.services.planning import budget, matrix
from crm.services.sales import opportunities
from crm.views import approvals as approvals_view
from crm.views.forms import refuse_stale, version_of
from crm.views.helpers import label

bp = Blueprint("experiences", __name__)


def _experience_or_404(experience_id: int) -> Experience:
    experience = db.session.get(Experience, experience_id)
    if experience is None or not access.can_see_customer(current_user, experience.customer):
        abort(404)
    return experience


@bp.route("/customers/<id:customer_id>/experiences/new", methods=["GET", "POST"])
@login_required
def new(customer_id: int):
    customer = access.get_customer_or_404(customer_id, current_user)
    form = ExperienceForm()
    ask = None  # where staff may ask for approval of a plan the rules refused
    if request.method == "GET":
        form.category.data = request.args.get("category", "visit")
        form.due_on.data = local_today()
    if form.validate_on_submit():
        try:
            experience = plans.add_experience(current_user, customer, form.domain_data())
        except InvalidInput as error:
            db.session.rollback()
            form.show(error)
            if isinstance(error, plans.OverLimit):
                ask = approvals_view.ask_link(customer.id, form.domain_data())
        else:
            db.session.commit()
            if experience.approved_by_id:
                flash(_("Experience planned with your approval."), "success")
            else:
                flash(_("Experience planned."), "success")
            return redirect(url_for("customers.show", customer_id=customer.id, _anchor="plan"))
    return render_template(
        "experiences/form.html",
        form=form,
        customer=customer,
        budget=budget.budget_for(customer),
        rules=matrix.rules(),
        categories=matrix.categories(),
        may_approve=plans.may_approve(current_user),
        ask=ask,
    )


@bp.route("/experiences/<id:experience_id>/record", methods=["GET", "POST"])
@login_required
def record(experience_id: int):
    experience = _experience_or_404(experience_id)
    customer = experience.customer
    form = RecordForm()
    form.product_id.choices = product_choices(suitability.offered(customer))
    if request.method == "GET":
        form.outcome.data = experience.status.value if experience.group_event_id else "done"
        form.held_on.data = min(experience.due_on, local_today())
        form.liquid_assets.data = f"{customer.liquid_assets:.2f}"
        form.version.data = experience.version
        form.customer_version.data = customer.version
    conflict = None
    if form.validate_on_submit():
        try:
            recorded = recording.record_experience(
                current_user,
                experience,
                form.domain_data(),
                version_of(form.version.data),
                version_of(form.customer_version.data),
            )
        except InvalidInput as error:
            db.session.rollback()
            form.show(error)
        except revisions.StaleDossier as stale:
            conflict = stale.missed
            refuse_stale(
                form,
                _("Someone else changed this customer or experience while you were recording."),
                version=experience,
                customer_version=customer,
            )
            experience = _experience_or_404(experience_id)  # still the user's to see?
        else:
            db.session.commit()
            if recorded.moved_to is not None:
                flash(
                    _(
                        "Experience recorded: the customer moved from %(a)s to %(b)s.",
                        a=label("quadrant", recorded.moved_from),
                        b=label("quadrant", recorded.moved_to),
                    ),
                    "success",
                )
            else:
                flash(_("Experience recorded."), "success")
            # Interest shown: the dossier offers to open an opportunity (商机) from it.
            offer = opportunities.offer_after(experience)
            return redirect(url_for("customers.show", customer_id=customer.id, **offer))
    if recording.already_recorded(experience):
        form.form_errors.append(str(recording.ALREADY_RECORDED))
    return render_template(
        "experiences/record.html",
        form=form,
        experience=experience,
        customer=customer,
        deltas=current_app.config["CRM_RESPONSE_DELTAS"],
        thresholds=tiering.current_thresholds(),  # the quadrant preview's (quadrant_preview.js)
        missed=conflict,
    )


@bp.route("/agenda")
@login_required
def agenda():
    """The signed-in staff member's agenda, or (?owner=, from the team page) a team member's,
    read-only."""
    owner = team.member_in_reach(current_user, as_id(request.args.get("owner")))
    if owner is None:
        abort(404)
    return render_template(
        "experiences/agenda.html", agenda=agenda_service.agenda(owner), owner=owner
    )
