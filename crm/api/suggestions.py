"""Next best experience (下一步体验建议) over the API: a customer's ranked suggestions, each
with its reason in words (in the language of Accept-Language) and, where one fits, a product
suitable for the customer's risk level and age band. Planning one is ``POST
/customers/<id>/experiences``, with the same checks as planning by hand."""

from __future__ import annotations

import marshmallow as ma

from crm.api.blueprint import Blueprint
from crm.api.customers import customer_or_404
from crm.api.fields import Enum, Money
from crm.models.enums import Mark, RiskLevel, Touchpoint
from crm.services.advice import suggestions

blp = Blueprint(
    "Suggestions", __name__, description="Next best experience (下一步体验建议), read only."
)


class SuggestedProduct(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    risk_level = Enum(RiskLevel)


class SuggestionOut(ma.Schema):
    category = Enum(Touchpoint)
    mark = Enum(
        Mark, metadata={"description": 'strategic, should or discretionary (never "never").'}
    )
    planned_cost = Money(attribute="cost", metadata={"description": "The category's unit cost."})
    expected_positive_share = ma.fields.Float(
        attribute="effect.share",
        metadata={"description": "Expected share of positive responses, 0 to 1."},
    )
    history_count = ma.fields.Integer(
        attribute="effect.held",
        metadata={"description": "Such experiences held in the last year it rests on."},
    )
    last_held_on = ma.fields.Date(attribute="last_held", allow_none=True)
    interval_days = ma.fields.Integer(allow_none=True)
    churn_raised = ma.fields.Boolean()
    product = ma.fields.Nested(SuggestedProduct, allow_none=True)
    deposit = ma.fields.Boolean(metadata={"description": "Talk about converting to a deposit."})
    reason = ma.fields.String()


class SuggestionList(ma.Schema):
    customer_id = ma.fields.Integer()
    suggestions = ma.fields.List(ma.fields.Nested(SuggestionOut))


@blp.route("/customers/<id:customer_id>/suggestions")
@blp.response(200, SuggestionList)
def list_suggestions(customer_id: int):
    """Up to three suggestions for a customer you may see, best first: strategic first, then
    by expected effect per yuan; never a category the matrix refuses, never past the budget."""
    customer = customer_or_404(customer_id)
    return {"customer_id": customer.id, "suggestions": suggestions.for_customer(customer)}
