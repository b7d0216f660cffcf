"""Opportunities (商机) over the API: listed and read within the customers one may see, opened,
revised and moved a stage with the same rules, audit and locking as the web pages; won by
recording the policy through the policy service."""

from __future__ import annotations

import sqlalchemy as sa
from flask import url_for
from flask.views import MethodView
from flask_babel import gettext as _

from crm.api import errors, locking
from crm.api.auth import caller
from crm.api.blueprint import Blueprint
from crm.api.customers import customer_or_404
from crm.api.opportunity_schemas import (
    OpportunityCreate,
    OpportunityListArgs,
    OpportunityOut,
    OpportunityPage,
    OpportunityUpdate,
    StageMove,
)
from crm.api.paging import page_of
from crm.core import access, revisions
from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import Customer, Opportunity
from crm.models.enums import SalesStage
from crm.services.sales import opportunities, stages

blp = Blueprint("Opportunities", __name__, description="Opportunities (商机): the sales pipeline.")


def opportunity_or_404(opportunity_id: int) -> Opportunity:
    found = db.session.get(Opportunity, opportunity_id)
    if found is None or not access.can_see_customer(caller(), found.customer):
        errors.not_found(_("No such opportunity, or not one you may see."))
    return found


@blp.route("/opportunities")
class OpportunityList(MethodView):
    @blp.arguments(OpportunityListArgs, location="query")
    @blp.response(200, OpportunityPage)
    def get(self, args):
        """Opportunities of the customers you may see; one customer's with customer_id."""
        query = (
            sa.select(Opportunity)
            .join(Customer, Customer.id == Opportunity.customer_id)
            .where(access.customer_scope(caller()))
        )
        if args.get("customer_id") is not None:
            query = query.where(Opportunity.customer_id == args["customer_id"])
        if args.get("stage") is not None:
            query = query.where(Opportunity.stage == SalesStage(args["stage"]))
        return page_of(query, Opportunity.id, args)

    @blp.arguments(OpportunityCreate)
    @blp.response(201, OpportunityOut)
    def post(self, data):
        """Open an opportunity on a customer you may see, at the lead stage (线索)."""
        customer = customer_or_404(data.pop("customer_id"))
        try:
            found = opportunities.open_opportunity(caller(), customer, data)
        except InvalidInput as error:
            errors.refuse(error)
        db.session.commit()
        location = url_for("Opportunities.OpportunityItem", opportunity_id=found.id)
        return found, {"Location": location, **locking.etag(found.version)}


@blp.route("/opportunities/<id:opportunity_id>")
class OpportunityItem(MethodView):
    @blp.response(200, OpportunityOut)
    def get(self, opportunity_id: int):
        """One opportunity."""
        found = opportunity_or_404(opportunity_id)
        return found, locking.etag(found.version)

    @blp.arguments(OpportunityUpdate)
    @blp.response(200, OpportunityOut)
    @locking.versioned(blp)
    def patch(self, data, opportunity_id: int):
        """Revise an open opportunity as of the version you read; 409 if it moved on."""
        found = opportunity_or_404(opportunity_id)
        expected = locking.expected_version(data.pop("version", None))
        current = {field: getattr(found, field) for field in opportunities.FIELDS}
        try:
            opportunities.update_opportunity(caller(), found, {**current, **data}, expected)
        except InvalidInput as error:
            errors.refuse(error)
        except revisions.StaleDossier as stale:
            _conflict(stale, opportunity_id)
        db.session.commit()
        return found, locking.etag(found.version)


@blp.route("/opportunities/<id:opportunity_id>/stage", methods=["POST"])
@blp.arguments(StageMove)
@blp.response(200, OpportunityOut)
@locking.versioned(blp)
def move(data, opportunity_id: int):
    """Move an open opportunity: to the next stage, to lost with lost_reason, or at closing
    to won with the policy (seed 000's compliance fields for an investment-type product)."""
    found = opportunity_or_404(opportunity_id)
    expected = locking.expected_version(data.pop("version", None))
    wanted = SalesStage(data["stage"])
    user = caller()
    try:
        if wanted == SalesStage.LOST:
            opportunities.lose(user, found, data.get("lost_reason"), expected)
        elif wanted == SalesStage.WON:
            opportunities.win(user, found, data.get("policy") or {}, expected)
        elif found.is_open and wanted != stages.next_stage(found.stage):
            raise InvalidInput({"stage": _("An opportunity moves one stage at a time.")})
        else:
            opportunities.advance(user, found, expected)
    except InvalidInput as error:
        errors.refuse(error)
    except revisions.StaleDossier as stale:
        _conflict(stale, opportunity_id)
    db.session.commit()
    return found, locking.etag(found.version)


def _conflict(stale, opportunity_id: int):
    errors.conflict(
        stale, lambda: {"current_version": db.session.get(Opportunity, opportunity_id).version}
    )
