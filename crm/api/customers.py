"""Customer dossiers (客户档案) over the API: list, read, open, revise.

The same service functions as the web forms (``crm.services.customers.dossier``), so the same rules,
audit rows and conflict detection; the same scope (``crm.core.access``): a customer
the token's staff member may not see does not exist (404).
"""

from __future__ import annotations

from flask import url_for
from flask.views import MethodView
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from crm.api import errors, locking
from crm.api.auth import caller
from crm.api.blueprint import Blueprint
from crm.api.paging import page_of
from crm.api.schemas import (
    CustomerCreate,
    CustomerListArgs,
    CustomerOut,
    CustomerPage,
    CustomerUpdate,
)
from crm.core import access, revisions
from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import Customer
from crm.services.customers import dossier
from crm.services.customers.customer_list import CustomerFilters, filtered_query

blp = Blueprint("Customers", __name__, description="Customer dossiers (客户档案).")


def customer_or_404(customer_id: int) -> Customer:
    customer = db.session.get(Customer, customer_id)
    if customer is None or not access.can_see_customer(caller(), customer):
        errors.not_found(_("No such customer, or not one you may see."))
    return customer


def _filters(args: dict) -> CustomerFilters:
    """The customer list page's filters, read as that page reads them."""
    return CustomerFilters.from_args(
        {
            "q": args.get("q"),
            "quadrant": args.get("quadrant"),
            "risk": args.get("risk_level"),
            "channel": args.get("channel"),
            "owner": args.get("owner_id"),
            "branch": args.get("branch_id"),
            "tag": args.get("tag"),
        }
    )


@blp.route("/customers")
class CustomerList(MethodView):
    @blp.arguments(CustomerListArgs, location="query")
    @blp.response(200, CustomerPage)
    def get(self, args):
        """The customers you may see, oldest first, with the customer list's filters."""
        query = filtered_query(caller(), _filters(args)).options(selectinload(Customer.tags))
        return page_of(query, Customer.id, args)

    @blp.arguments(CustomerCreate)
    @blp.response(201, CustomerOut)
    def post(self, data):
        """Open a dossier (建档), placed in its quadrant at once."""
        try:
            customer = dossier.create_customer(caller(), data)
        except InvalidInput as error:
            errors.refuse(error)
        db.session.commit()
        location = url_for("Customers.CustomerItem", customer_id=customer.id)
        return customer, {"Location": location, **locking.etag(customer.version)}


@blp.route("/customers/<id:customer_id>")
class CustomerItem(MethodView):
    @blp.response(200, CustomerOut)
    def get(self, customer_id: int):
        """One dossier (the phone masked)."""
        customer = customer_or_404(customer_id)
        return customer, locking.etag(customer.version)

    @blp.arguments(CustomerUpdate)
    @blp.response(200, CustomerOut)
    @locking.versioned(blp)
    def patch(self, data, customer_id: int):
        """Revise a dossier (档案修正) as of the version you read; 409 if it moved on."""
        customer = customer_or_404(customer_id)
        expected = locking.expected_version(data.pop("version", None))
        try:
            dossier.update_customer(
                caller(), customer, {**dossier.form_values(customer), **data}, expected
            )
        except InvalidInput as error:
            errors.refuse(error)
        except revisions.StaleDossier as stale:
            errors.conflict(
                stale, lambda: {"current_version": db.session.get(Customer, customer_id).version}
            )
        db.session.commit()
        return customer, locking.etag(customer.version)
