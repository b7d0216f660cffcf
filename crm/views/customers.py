"""Customer dossiers (客户档案): list, open, create, revise, and their policies."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import SelectChoice

from crm.core import access, audit, revisions
from crm.core.inputs import InvalidInput
from crm.core.phones import mask_phone
from crm.extensions import db
from crm.form_fields import product_choices, type_choices
from crm.forms import (
    CustomerForm,
    PolicyForm,
    ReassessForm,
    RelationshipForm,
)
from crm.models import Policy
from crm.services.customers import dossier, policies, suitability, timeline, willingness
from crm.services.customers.customer_list import CustomerFilters, list_customers, sole_match
from crm.services.followup import complaints
from crm.services.retention import status
from crm.views import dossier_page
from crm.views.forms import refuse_stale, version_of
from crm.views.helpers import label

bp = Blueprint("customers", __name__)


# The list's orders (customer_list.SORTS), as the sort menu offers them.
SORT_CHOICES = (
    ("", _l("Newest first")),
    ("name", _l("Name, in pinyin order")),
    ("assets", _l("Liquid assets, highest first")),
    ("willingness", _l("Willingness, highest first")),
    ("contact_recent", _l("Last contact, most recent first")),
    ("contact_oldest", _l("Last contact, longest ago first")),
    ("planned_soonest", _l("Next planned experience, soonest first")),
    ("planned_latest", _l("Next planned experience, latest first")),
)


@bp.route("/")
@login_required
def home():
    return redirect(url_for("today.index"))


@bp.route("/customers")
@login_required
def index():
    filters = CustomerFilters.from_args(request.args)
    page = list_customers(
        current_user,
        filters,
        before=request.args.get("before"),
        after=request.args.get("after"),
        page_size=current_app.config["CRM_PAGE_SIZE"],
    )
    if page.policy_customer is not None:
        # A policy number names one customer, whom the user may see: straight to the dossier.
        return redirect(
            url_for("customers.show", customer_id=page.policy_customer, _anchor="policies")
        )
    return render_template(
        "customers/index.html",
        page=page,
        owners=access.owner_choices(current_user),
        branches=access.visible_branches(current_user),
        sorts=SORT_CHOICES,
    )


@bp.route("/customers/find")
@login_required
def find():
    """The header's search box: straight to the dossier when one customer matches (a policy
    number names one), else the customer list filtered by the search."""
    filters = CustomerFilters(q=CustomerFilters.from_args(request.args).q)
    customer_id, by_policy = sole_match(current_user, filters.q)
    if customer_id is not None:
        anchor = "policies" if by_policy else None
        return redirect(url_for("customers.show", customer_id=customer_id, _anchor=anchor))
    return redirect(url_for("customers.index", **filters.as_args()))


def _dossier_form(customer=None) -> CustomerForm:
    if request.method == "POST" or customer is None:
        form = CustomerForm()
        if customer is None and request.method == "GET":
            form.owner_id.data = current_user.id
            form.branch_id.data = current_user.branch_id
    else:
        form = CustomerForm(data=dossier.form_values(customer))
    form.fill_choices(access.assignable_owners(current_user), access.visible_branches(current_user))
    if customer is not None:
        form.phone.description = _(
            "Leave empty to keep %(masked)s.", masked=mask_phone(customer.phone)
        )
    if customer is not None and customer.owner_id not in {c.value for c in form.owner_id.choices}:
        # A manager editing a dossier whose owner left the branch still sees who holds it.
        form.owner_id.choices.append(SelectChoice(customer.owner_id, customer.owner.display_name))
    return form


@bp.route("/customers/new", methods=["GET", "POST"])
@login_required
def new():
    form = _dossier_form()
    if form.validate_on_submit():
        try:
            customer = dossier.create_customer(current_user, form.domain_data())
        except InvalidInput as error:
            db.session.rollback()
            form.show(error)
        else:
            db.session.commit()
            flash(_("Dossier created."), "success")
            return redirect(url_for("customers.show", customer_id=customer.id))
    return render_template("customers/form.html", form=form, customer=None)


@bp.route("/customers/<id:customer_id>")
@login_required
def show(customer_id: int):
    return _dossier_page(customer_id)


@bp.route("/customers/<id:customer_id>/phone", methods=["POST"])
@login_required
def reveal_phone(customer_id: int):
    """Show the full number once, and note who looked (phones stay masked elsewhere)."""
    customer = access.get_customer_or_404(customer_id, current_user)
    dossier.record_phone_reveal(current_user, customer)
    db.session.commit()
    return _dossier_page(customer.id, full_phone=customer.phone)


def _history_names(rows):
    return audit.referenced_names(rows, lambda c: access.can_see_customer(current_user, c))


def _dossier_page(
    customer_id: int,
    full_phone: str | None = None,
    reassess=None,
    status: int = 200,
    relationship=None,
):
    page = dossier_page.load(
        current_user,
        customer_id,
        activity=timeline.read_kind(request.args.get("activity")),
        activity_page=timeline.read_page(request.args.get("activity_page")),
    )
    if page is None:
        abort(404)
    if reassess is None:
        reassess = ReassessForm(data={"willingness": page.customer.willingness})
        reassess.version.data = page.customer.version
    if relationship is None:
        c = page.customer
        relationship = RelationshipForm(
            data={
                "relationship_status": c.relationship_status.value,
                "lost_reason": c.lost_reason.value if c.lost_reason else "",
                "lost_on": c.lost_on.isoformat() if c.lost_on else "",
            }
        )
        relationship.version.data = c.version
    html = render_template(
        "customers/show.html",
        **vars(page),
        full_phone=full_phone,
        reassess=reassess,
        relationship=relationship,
        is_overdue=complaints.is_overdue,
    )
    return html, status


@bp.route("/customers/<id:customer_id>/willingness", methods=["POST"])
@login_required
def reassess(customer_id: int):
    """Willingness re-assessment (意愿评估) with a reason; the quadrant follows."""
    customer = access.get_customer_or_404(customer_id, current_user)
    form = ReassessForm()
    before = customer.quadrant
    if form.validate_on_submit():
        try:
            willingness.reassess_willingness(
                current_user,
                customer,
                form.willingness.data,
                form.reason.data,
                version_of(form.version.data),
            )
        except InvalidInput as error:
            db.session.rollback()
            form.show(error)
        except revisions.StaleDossier as stale:
            customer = stale.customer
            refuse_stale(
                form,
                _("Someone else saved this dossier while you were editing it."),
                then=_("Check the current values and re-assess again."),
                version=customer,
            )
        else:
            db.session.commit()
            if customer.quadrant != before:
                flash(
                    _(
                        "Willingness re-assessed: the customer moved from %(a)s to %(b)s.",
                        a=label("quadrant", before),
                        b=label("quadrant", customer.quadrant),
                    ),
                    "success",
                )
            else:
                flash(_("Willingness re-assessed."), "success")
            return redirect(url_for("customers.show", customer_id=customer.id))
    return _dossier_page(customer.id, reassess=form, status=200)


@bp.route("/customers/<id:customer_id>/relationship", methods=["POST"])
@login_required
def set_relationship(customer_id: int):
    """The relationship status (客户关系状态): a lost customer leaves every plan and SMS queue."""
    customer = access.get_customer_or_404(customer_id, current_user)
    form = RelationshipForm()
    if form.validate_on_submit():
        try:
            changes = status.set_relationship_status(
                current_user, customer, form.domain_data(), version_of(form.version.data)
            )
        except InvalidInput as error:
            db.session.rollback()
            form.show(error)
        except revisions.StaleDossier as stale:
            customer = stale.customer
            refuse_stale(form, version=customer)
        else:
            db.session.commit()
            if changes:
                flash(_("Relationship status saved."), "success")
            return redirect(url_for("customers.show", customer_id=customer.id, _anchor="churn"))
    return _dossier_page(customer.id, relationship=form, status=200)


@bp.route("/customers/<id:customer_id>/edit", methods=["GET", "POST"])
@login_required
def edit(customer_id: int):
    customer = access.get_customer_or_404(customer_id, current_user)
    form = _dossier_form(customer)
    missed = None
    if form.validate_on_submit():
        try:
            changes = dossier.update_customer(
                current_user, customer, form.domain_data(), version_of(form.version.data)
            )
        except InvalidInput as error:
            db.session.rollback()
            form.show(error)
        except revisions.StaleDossier as stale:
            # The page shows what the other person changed (``missed``) above the form.
            customer, missed = stale.customer, stale.missed
            refuse_stale(form, version=customer)
        else:
            db.session.commit()
            flash(_("Dossier saved.") if changes else _("Nothing changed."), "success")
            return redirect(url_for("customers.show", customer_id=customer.id))
    elif request.method == "GET":
        form.version.data = customer.version
    return render_template(
        "customers/form.html",
        form=form,
        customer=customer,
        missed=missed,
        names=_history_names(missed or []),
    )


@bp.route("/customers/<id:customer_id>/policies/new", methods=["GET", "POST"])
@login_required
def new_policy(customer_id: int):
    customer = access.get_customer_or_404(customer_id, current_user)
    form = PolicyForm()
    form.product_id.choices = product_choices(suitability.offered(customer))
    form.product_type.choices = type_choices(suitability.offered_types(customer))
    if form.validate_on_submit():
        try:
            policies.add_policy(current_user, customer, form.domain_data())
        except InvalidInput as error:
            db.session.rollback()
            form.show(error)
        else:
            db.session.commit()
            flash(_("Policy added."), "success")
            return redirect(url_for("customers.show", customer_id=customer.id))
    return render_template("customers/policy_form.html", form=form, customer=customer, policy=None)


@bp.route("/customers/<id:customer_id>/policies/<id:policy_id>/edit", methods=["GET", "POST"])
@login_required
def edit_policy(customer_id: int, policy_id: int):
    customer = access.get_customer_or_404(customer_id, current_user)
    policy = db.session.get(Policy, policy_id)
    if policy is None or policy.customer_id != customer.id:
        abort(404)
    form = PolicyForm(obj=policy) if request.method == "GET" else PolicyForm()
    form.product_id.choices = product_choices(suitability.offered(customer, policy.product_id))
    form.product_type.choices = type_choices(
        suitability.offered_types(customer, policy.product_type)
    )
    missed = None
    if form.validate_on_submit():
        try:
            changes = policies.update_policy(
                current_user, policy, form.domain_data(), version_of(form.version.data)
            )
        except InvalidInput as error:
            db.session.rollback()
            form.show(error)
        except revisions.StaleDossier as stale:
            missed = stale.missed
            refuse_stale(form, version=policy)
        else:
            db.session.commit()
            flash(_("Policy saved.") if changes else _("Nothing changed."), "success")
            return redirect(url_for("customers.show", customer_id=customer.id))
    elif request.method == "GET":
        form.version.data = policy.version
    return render_template(
        "customers/policy_form.html",
        form=form,
        customer=customer,
        policy=policy,
        missed=missed,
        names=_history_names(missed or []),
    )
