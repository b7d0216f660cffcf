"""Experiences (客户体验) over the API: listed and read within the customers one may see,
planned for a customer, and recorded (体验记录) with the dossier revision made with them."""

from __future__ import annotations

import sqlalchemy as sa
from flask import url_for
from flask.views import MethodView
from flask_babel import gettext as _

from crm.api import errors, locking
from crm.api.auth import caller
from crm.api.blueprint import Blueprint
from crm.api.customers import customer_or_404
from crm.api.paging import page_of
from crm.api.schemas import (
    ExperienceCreate,
    ExperienceListArgs,
    ExperienceOut,
    ExperiencePage,
    ExperienceRecord,
    RecordOut,
)
from crm.core import access, revisions
from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import Customer, Experience
from crm.models.enums import ExperienceStatus, Touchpoint
from crm.services.experiences import plans, recording

blp = Blueprint("Experiences", __name__, description="Experiences (客户体验) with customers.")


def experience_or_404(experience_id: int) -> Experience:
    experience = db.session.get(Experience, experience_id)
    if experience is None or not access.can_see_customer(caller(), experience.customer):
        errors.not_found(_("No such experience, or not one you may see."))
    return experience


@blp.route("/experiences")
@blp.arguments(ExperienceListArgs, location="query")
@blp.response(200, ExperiencePage)
def list_experiences(args):
    """Experiences with the customers you may see; filter by customer, status, due dates."""
    query = (
        sa.select(Experience)
        .join(Customer, Customer.id == Experience.customer_id)
        .where(access.customer_scope(caller()))
    )
    if args.get("customer_id") is not None:
        query = query.where(Experience.customer_id == args["customer_id"])
    if args.get("status") is not None:
        query = query.where(Experience.status == ExperienceStatus(args["status"]))
    if args.get("category") is not None:
        query = query.where(Experience.category == Touchpoint(args["category"]))
    errors.refuse_dates_outside_calendar(args, "due_from", "due_until")
    if args.get("due_from") is not None:
        query = query.where(Experience.due_on >= args["due_from"])
    if args.get("due_until") is not None:
        query = query.where(Experience.due_on <= args["due_until"])
    return page_of(query, Experience.id, args)


@blp.route("/customers/<id:customer_id>/experiences", methods=["POST"])
@blp.arguments(ExperienceCreate)
@blp.response(201, ExperienceOut)
def plan_experience(data, customer_id: int):
    """Plan an experience for the customer; over the matrix or the budget, a manager's
    approval_reason is needed (refused with the reason and by how much otherwise)."""
    customer = customer_or_404(customer_id)
    try:
        experience = plans.add_experience(caller(), customer, data)
    except InvalidInput as error:
        errors.refuse(error)
    db.session.commit()
    location = url_for("Experiences.ExperienceItem", experience_id=experience.id)
    return experience, {"Location": location, **locking.etag(experience.version)}


@blp.route("/experiences/<id:experience_id>")
class ExperienceItem(MethodView):
    @blp.response(200, ExperienceOut)
    def get(self, experience_id: int):
        """One experience."""
        experience = experience_or_404(experience_id)
        return experience, locking.etag(experience.version)


def _versions(experience_id: int) -> dict[str, int]:
    experience = db.session.get(Experience, experience_id)
    return {
        "current_version": experience.version,
        "current_customer_version": experience.customer.version,
    }


@blp.route("/experiences/<id:experience_id>/record", methods=["POST"])
@blp.arguments(ExperienceRecord)
@blp.response(200, RecordOut)
@locking.versioned(blp)
def record_experience(data, experience_id: int):
    """Record how it went and revise the dossier with it; the customer is re-tiered, and
    after a move the plan is refitted. 409 if the experience or the customer moved on."""
    experience = experience_or_404(experience_id)
    expected = locking.expected_version(data.pop("version", None))
    customer_version = data.pop("customer_version")
    try:
        recorded = recording.record_experience(
            caller(), experience, data, expected, customer_version
        )
    except InvalidInput as error:
        errors.refuse(error)
    except revisions.StaleDossier as stale:
        errors.conflict(stale, lambda: _versions(experience_id))
    db.session.commit()
    return {
        "experience": recorded.experience,
        "customer": recorded.experience.customer,
        "moved_from": recorded.moved_from,
        "moved_to": recorded.moved_to,
    }, locking.etag(recorded.experience.version)
