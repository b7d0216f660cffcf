"""Quadrant events over the API, read only: every move of a customer between tiers
(客户分层), with both values and both thresholds at the time, so each move explains itself."""

from __future__ import annotations

import sqlalchemy as sa
from flask.views import MethodView
from flask_babel import gettext as _

from crm.api import errors
from crm.api.auth import caller
from crm.api.blueprint import Blueprint
from crm.api.paging import page_of
from crm.api.schemas import QuadrantEventListArgs, QuadrantEventOut, QuadrantEventPage
from crm.core import access
from crm.extensions import db
from crm.models import Customer, QuadrantEvent
from crm.models.enums import MoveCause, Quadrant

blp = Blueprint(
    "QuadrantEvents", __name__, description="Moves of customers between quadrants (read only)."
)


@blp.route("/quadrant-events")
@blp.arguments(QuadrantEventListArgs, location="query")
@blp.response(200, QuadrantEventPage)
def list_events(args):
    """Moves of the customers you may see, oldest first; filter by customer, target
    quadrant, cause and time."""
    query = (
        sa.select(QuadrantEvent)
        .join(Customer, Customer.id == QuadrantEvent.customer_id)
        .where(access.customer_scope(caller()))
    )
    if args.get("customer_id") is not None:
        query = query.where(QuadrantEvent.customer_id == args["customer_id"])
    if args.get("to_quadrant") is not None:
        query = query.where(QuadrantEvent.to_quadrant == Quadrant(args["to_quadrant"]))
    if args.get("cause") is not None:
        query = query.where(QuadrantEvent.cause == MoveCause(args["cause"]))
    errors.refuse_dates_outside_calendar(args, "since", "until")
    if args.get("since") is not None:
        query = query.where(QuadrantEvent.at >= args["since"])
    if args.get("until") is not None:
        query = query.where(QuadrantEvent.at < args["until"])
    return page_of(query, QuadrantEvent.id, args)


@blp.route("/quadrant-events/<id:event_id>")
class QuadrantEventItem(MethodView):
    @blp.response(200, QuadrantEventOut)
    def get(self, event_id: int):
        """One move."""
        event = db.session.get(QuadrantEvent, event_id)
        if event is None or not access.can_see_customer(caller(), event.customer):
            errors.not_found(_("No such quadrant event, or not one you may see."))
        return event
