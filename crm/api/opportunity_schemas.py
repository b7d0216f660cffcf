"""What the API reads and writes for opportunities (商机): shape and type only; the rules are
the domain's (``crm.services.sales.opportunities``), the same as the web forms'."""

from __future__ import annotations

import marshmallow as ma

from crm.api.fields import (
    Boolean,
    Date,
    DateTime,
    Enum,
    Id,
    Integer,
    Money,
    Schema,
    Text,
    Version,
    choice,
)
from crm.api.paging import PageArgs, page_schema
from crm.api.schemas import VERSION
from crm.models.enums import OpportunitySource, PaymentMode, SalesStage


class OpportunityOut(ma.Schema):
    id = ma.fields.Integer()
    customer_id = ma.fields.Integer()
    owner_id = ma.fields.Integer()
    product_id = ma.fields.Integer()
    expected_premium = Money()
    payment_mode = Enum(PaymentMode)
    stage = Enum(SalesStage)
    lost_from = Enum(SalesStage, allow_none=True)
    lost_reason = ma.fields.String(allow_none=True)
    opened_on = Date()
    expected_close_on = Date()
    closed_on = Date(allow_none=True)
    source = Enum(OpportunitySource)
    experience_id = ma.fields.Integer(allow_none=True)
    callback_id = ma.fields.Integer(allow_none=True)
    group_event_id = ma.fields.Integer(allow_none=True)
    notes = ma.fields.String(allow_none=True)
    version = ma.fields.Integer()
    created_at = DateTime()
    updated_at = DateTime()


class OpportunityFields(Schema):
    product_id = Integer(
        metadata={"description": "A product on the shelf, suitable for the customer.", "example": 1}
    )
    expected_premium = Money(metadata={"example": "50000.00"})
    payment_mode = choice(PaymentMode)
    expected_close_on = Date(metadata={"example": "2026-12-31"})
    source = choice(OpportunitySource)
    experience_id = Integer(allow_none=True)
    callback_id = Integer(allow_none=True)
    group_event_id = Integer(allow_none=True)
    notes = Text(allow_none=True)


class OpportunityCreate(OpportunityFields):
    customer_id = Id(strict=False, required=True, metadata={"example": 1})
    product_id = Integer(required=True, metadata={"example": 1})
    expected_premium = Money(required=True, metadata={"example": "50000.00"})
    payment_mode = choice(PaymentMode, required=True)
    expected_close_on = Date(required=True, metadata={"example": "2026-12-31"})


class OpportunityUpdate(OpportunityFields):
    """Only the fields sent change; the others keep their values."""

    version = Version(metadata=VERSION)


class SaleFields(Schema):
    """The policy a won opportunity records (its product is the opportunity's)."""

    policy_number = Text(required=True, metadata={"example": "GS-2026-0001"})
    premium = Money(metadata={"description": "Default: the expected premium."})
    payment_mode = choice(PaymentMode)
    start_date = Date(metadata={"description": "Default: today."})
    maturity_date = Date(allow_none=True)
    dual_recording_ref = Text(allow_none=True, metadata={"example": "SL-2026-000123"})
    returns_notice_shown = Boolean()
    risk_acknowledged = Boolean()


class StageMove(Schema):
    """The next stage, lost (with a reason), or won at closing (with the policy)."""

    stage = choice(SalesStage, required=True, metadata={"example": "needs"})
    lost_reason = Text(allow_none=True)
    policy = ma.fields.Nested(SaleFields)
    version = Version(metadata=VERSION)


class OpportunityListArgs(PageArgs):
    customer_id = Id(strict=False)
    stage = choice(SalesStage)


OpportunityPage = page_schema(OpportunityOut, "OpportunityPage")
