"""Policies (保单) over the API: listed and read within the customers one may see, added to a
dossier and revised with the same rules, audit and locking as the web forms."""

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
from crm.api.schemas import PolicyCreate, PolicyListArgs, PolicyOut, PolicyPage, PolicyUpdate
from crm.core import access, revisions
from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import Customer, Policy
from crm.models.enums import PolicyStatus, ProductType
from crm.services.customers import policies

blp = Blueprint("Policies", __name__, description="Policies (保单) the customers hold.")


def policy_or_404(policy_id: int) -> Policy:
    policy = db.session.get(Policy, policy_id)
    if policy is None or not access.can_see_customer(caller(), policy.customer):
        errors.not_found(_("No such policy, or not one you may see."))
    return policy


@blp.route("/policies")
class PolicyList(MethodView):
    @blp.arguments(PolicyListArgs, location="query")
    @blp.response(200, PolicyPage)
    def get(self, args):
        """Policies of the customers you may see; one customer's with customer_id."""
        query = (
            sa.select(Policy)
            .join(Customer, Customer.id == Policy.customer_id)
            .where(access.customer_scope(caller()))
        )
        if args.get("customer_id") is not None:
            query = query.where(Policy.customer_id == args["customer_id"])
        if args.get("status") is not None:
            query = query.where(Policy.status == PolicyStatus(args["status"]))
        if args.get("product_type") is not None:
            query = query.where(Policy.product_type == ProductType(args["product_type"]))
        return page_of(query, Policy.id, args)


@blp.route("/customers/<id:customer_id>/policies", methods=["POST"])
@blp.arguments(PolicyCreate)
@blp.response(201, PolicyOut)
def add_policy(data, customer_id: int):
    """Record a policy the customer holds (checked for suitability)."""
    customer = customer_or_404(customer_id)
    try:
        policy = policies.add_policy(caller(), customer, data)
    except InvalidInput as error:
        errors.refuse(error)
    db.session.commit()
    location = url_for("Policies.PolicyItem", policy_id=policy.id)
    return policy, {"Location": location, **locking.etag(policy.version)}


@blp.route("/policies/<id:policy_id>")
class PolicyItem(MethodView):
    @blp.response(200, PolicyOut)
    def get(self, policy_id: int):
        """One policy."""
        policy = policy_or_404(policy_id)
        return policy, locking.etag(policy.version)

    @blp.arguments(PolicyUpdate)
    @blp.response(200, PolicyOut)
    @locking.versioned(blp)
    def patch(self, data, policy_id: int):
        """Revise a policy as of the version you read; 409 if it moved on."""
        policy = policy_or_404(policy_id)
        expected = locking.expected_version(data.pop("version", None))
        current = {field: getattr(policy, field) for field in policies.POLICY_FIELDS}
        try:
            policies.update_policy(caller(), policy, {**current, **data}, expected)
        except InvalidInput as error:
            errors.refuse(error)
        except revisions.StaleDossier as stale:
            errors.conflict(
                stale, lambda: {"current_version": db.session.get(Policy, policy_id).version}
            )
        db.session.commit()
        return policy, locking.etag(policy.version)
