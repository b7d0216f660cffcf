"""What the API reads and writes, as marshmallow schemas; the OpenAPI description is
generated from these same schemas, so the documentation cannot drift from what is checked.

Input schemas check shape and type only (unknown fields refused, wrong types refused);
the rules themselves (phone numbers, ranges, who may be owner, ...) are the domain's, in
``crm.services``, the same for the web forms and the API.
"""

from __future__ import annotations

from decimal import Decimal

import marshmallow as ma

from crm.api.fields import (
    Boolean,
    Date,
    DateTime,
    Enum,
    Id,
    Integer,
    List,
    MaskedPhone,
    Money,
    Schema,
    Text,
    Version,
    choice,
)
from crm.api.paging import PageArgs, page_schema
from crm.models.customer import (
    DEFAULT_RISK_LEVEL,
    DEFAULT_WILLINGNESS,
    WILLINGNESS_MAX,
    WILLINGNESS_MIN,
)
from crm.models.enums import (
    Channel,
    ExperienceStatus,
    Gender,
    MoveCause,
    PaymentMode,
    PlanOrigin,
    PolicyStatus,
    ProductType,
    Quadrant,
    Response,
    RiskLevel,
    Touchpoint,
)

PHONE = {
    "example": "13512345678",
    "pattern": r"^\+?[0-9][0-9 ().-]*$",
    "description": "The full mobile number, such as 13812341234 or +86 138 1234 1234 "
    "(answers show it masked). On update, leave it out to keep the number.",
}
SCORE = f"{WILLINGNESS_MIN} to {WILLINGNESS_MAX}."
# A filter's date, as every typed date (``inputs.date_refusal``).
CALENDAR = "From 1900-01-01 to 100 years from today; outside that, the answer is 422."
VERSION = {
    "example": 1,
    "description": "The version you read (optimistic locking): if the record has moved on "
    "since, nothing is written and the answer is 409. An If-Match header with the ETag "
    "you were given does the same.",
}

# --- customers (客户档案) ------------------------------------------------------------------


class CustomerOut(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    gender = Enum(Gender)
    birth_date = Date(allow_none=True)
    phone = MaskedPhone(
        metadata={
            "description": "Masked, such as 138****1234: for reading only, never to send back.",
            "example": "138****1234",
            "readOnly": True,
        }
    )
    email = ma.fields.String(allow_none=True)
    occupation = ma.fields.String(allow_none=True)
    family_notes = ma.fields.String(allow_none=True)
    interests_notes = ma.fields.String(allow_none=True)
    tags = ma.fields.List(ma.fields.String(), attribute="tag_names")
    liquid_assets = Money()
    assets_as_of = Date(allow_none=True)
    willingness = ma.fields.Integer()
    quadrant = Enum(Quadrant)
    risk_level = Enum(RiskLevel)
    channel = Enum(Channel, allow_none=True)
    referred_by_id = ma.fields.Integer(allow_none=True)
    owner_id = ma.fields.Integer()
    branch_id = ma.fields.Integer()
    sms_consent = ma.fields.Boolean()
    sms_consent_at = DateTime(allow_none=True)
    sms_opt_out_at = DateTime(allow_none=True)
    notes = ma.fields.String(allow_none=True)
    version = ma.fields.Integer()
    created_at = DateTime()
    updated_at = DateTime()


class CustomerFields(Schema):
    """The dossier's fields a person edits (``crm.services.customers.dossier.DOSSIER_FIELDS``)."""

    name = Text(metadata={"example": "赵磊"})
    gender = choice(Gender)
    birth_date = Date(allow_none=True, metadata={"example": "1978-05-17"})
    phone = Text(metadata=PHONE)
    email = Text(allow_none=True, metadata={"example": "zhao.lei@example.com"})
    occupation = Text(allow_none=True, metadata={"example": "企业主"})
    family_notes = Text(allow_none=True)
    interests_notes = Text(allow_none=True)
    tags = List(Text(), metadata={"example": ["高净值", "子女教育"]})
    liquid_assets = Money(metadata={"example": "1200000.00"})
    assets_as_of = Date(allow_none=True)
    willingness = Integer(metadata={"description": SCORE, "example": 55})
    risk_level = choice(RiskLevel)
    channel = choice(Channel, allow_none=True)
    referred_by_id = Integer(allow_none=True)
    owner_id = Integer(
        allow_none=True,
        metadata={"description": "Null or left out on creation: you, the token's owner."},
    )
    branch_id = Integer(
        allow_none=True,
        metadata={"description": "Null or left out on creation: the owner's branch."},
    )
    sms_consent = Boolean()
    notes = Text(allow_none=True)


class CustomerCreate(CustomerFields):
    name = Text(required=True, metadata={"example": "赵磊"})
    phone = Text(required=True, metadata=PHONE)
    gender = choice(Gender, load_default=Gender.UNSPECIFIED.value)
    liquid_assets = Money(load_default=Decimal("0"), metadata={"example": "1200000.00"})
    willingness = Integer(
        load_default=DEFAULT_WILLINGNESS, metadata={"description": SCORE, "example": 55}
    )
    risk_level = choice(RiskLevel, load_default=DEFAULT_RISK_LEVEL.value)
    sms_consent = Boolean(load_default=False)


class CustomerUpdate(CustomerFields):
    """Only the fields sent change; the others keep their values."""

    phone = Text(metadata=PHONE | {"example": "13698765432"})
    version = Version(metadata=VERSION)


class CustomerListArgs(PageArgs):
    q = Text(
        metadata={
            "description": "The customer list's search: the name's beginning (张, 张三), its "
            "pinyin or initials (zhangsan, zs, 张s), the phone number's last digits, or a "
            "policy number."
        }
    )
    quadrant = choice(Quadrant)
    risk_level = choice(RiskLevel)
    channel = choice(Channel)
    owner_id = Id(strict=False)
    branch_id = Id(strict=False)
    tag = Text()


CustomerPage = page_schema(CustomerOut, "CustomerPage")

# --- policies (保单) -----------------------------------------------------------------------


class PolicyOut(ma.Schema):
    id = ma.fields.Integer()
    customer_id = ma.fields.Integer()
    policy_number = ma.fields.String()
    product_name = ma.fields.String()
    product_id = ma.fields.Integer(allow_none=True)
    product_type = Enum(ProductType)
    premium = Money()
    payment_mode = Enum(PaymentMode)
    start_date = Date()
    maturity_date = Date(allow_none=True)
    status = Enum(PolicyStatus)
    opportunity_id = ma.fields.Integer(allow_none=True)
    dual_recording_ref = ma.fields.String(allow_none=True)
    returns_notice_shown = ma.fields.Boolean()
    risk_acknowledged = ma.fields.Boolean()
    version = ma.fields.Integer()
    created_at = DateTime()
    updated_at = DateTime()


class PolicyFields(Schema):
    policy_number = Text(metadata={"example": "GS-2024-0001"})
    product_name = Text(metadata={"example": "鑫享年金"})
    product_id = Integer(
        allow_none=True,
        metadata={"description": "A product on the shelf; its name and type then apply."},
    )
    product_type = choice(ProductType, metadata={"example": "whole_life"})
    premium = Money(metadata={"example": "12000.00"})
    payment_mode = choice(PaymentMode)
    start_date = Date(metadata={"example": "2024-03-01"})
    maturity_date = Date(allow_none=True, metadata={"example": "2034-03-01"})
    status = choice(PolicyStatus)
    # Seed 000: needed, all three, for an investment-type product (分红, 万能, 投连).
    dual_recording_ref = Text(allow_none=True, metadata={"example": "SL-2024-000123"})
    returns_notice_shown = Boolean(
        metadata={"description": "The customer was shown illustrated returns are hypothetical."}
    )
    risk_acknowledged = Boolean(
        metadata={"description": "The customer acknowledged the product's risk."}
    )


class PolicyCreate(PolicyFields):
    policy_number = Text(required=True, metadata={"example": "GS-2024-0001"})
    premium = Money(required=True, metadata={"example": "12000.00"})
    payment_mode = choice(PaymentMode, required=True)
    start_date = Date(required=True, metadata={"example": "2024-03-01"})
    status = choice(PolicyStatus, load_default=PolicyStatus.IN_FORCE.value)


class PolicyUpdate(PolicyFields):
    """Only the fields sent change; the others keep their values."""

    policy_number = Text(metadata={"example": "GS-2024-0002"})
    version = Version(metadata=VERSION)


class PolicyListArgs(PageArgs):
    customer_id = Id(strict=False)
    status = choice(PolicyStatus)
    product_type = choice(ProductType)


PolicyPage = page_schema(PolicyOut, "PolicyPage")

# --- experiences (客户体验) -----------------------------------------------------------------


class ExperienceOut(ma.Schema):
    id = ma.fields.Integer()
    customer_id = ma.fields.Integer()
    category = Enum(Touchpoint)
    status = Enum(ExperienceStatus)
    origin = Enum(PlanOrigin)
    due_on = Date()
    held_on = Date(allow_none=True)
    planned_cost = Money()
    actual_cost = Money(allow_none=True)
    response = Enum(Response, allow_none=True)
    notes = ma.fields.String(allow_none=True)
    group_event_id = ma.fields.Integer(allow_none=True)
    product_id = ma.fields.Integer(allow_none=True)
    approved_by_id = ma.fields.Integer(allow_none=True)
    approval_reason = ma.fields.String(allow_none=True)
    created_by_id = ma.fields.Integer(allow_none=True)
    created_at = DateTime()
    recorded_at = DateTime(allow_none=True)
    recorded_by_id = ma.fields.Integer(allow_none=True)
    version = ma.fields.Integer()


class ExperienceCreate(Schema):
    """Plan one experience; a manager may approve one the matrix or the budget refuses."""

    category = choice(Touchpoint, required=True)
    due_on = Date(required=True, metadata={"example": "2026-12-01"})
    planned_cost = Money(
        allow_none=True,
        metadata={"description": "Null or left out: the category's unit cost.", "example": "80.00"},
    )
    notes = Text(allow_none=True, metadata={"example": "带上子女教育金资料"})
    approval_reason = Text(
        allow_none=True,
        metadata={"description": "Managers: the reason for approving a plan over the rules."},
    )


class ExperienceRecord(Schema):
    """How it went (体验记录), and the dossier revision (档案修正) made with it."""

    outcome = choice(
        (ExperienceStatus.DONE, ExperienceStatus.NO_SHOW, ExperienceStatus.CANCELLED),
        required=True,
        metadata={"example": ExperienceStatus.DONE.value},
    )
    held_on = Date(allow_none=True, metadata={"example": "2026-11-20"})
    response = choice(
        Response,
        allow_none=True,
        metadata={
            "description": "Required when it was held; none after a no-show.",
            "example": Response.POSITIVE.value,
        },
    )
    actual_cost = Money(
        allow_none=True,
        metadata={"description": "Null or left out: the planned cost.", "example": "95.50"},
    )
    notes = Text(allow_none=True)
    product_id = Integer(
        allow_none=True,
        metadata={
            "description": "A shelf product recommended while it was held, within the "
            "customer's risk level (适当性)."
        },
    )
    liquid_assets = Money(
        allow_none=True, metadata={"description": "The revised figure; null or left out keeps it."}
    )
    willingness = Integer(
        allow_none=True,
        metadata={
            "description": f"{WILLINGNESS_MIN} to {WILLINGNESS_MAX}; null or left out moves it "
            "by the response's configured step."
        },
    )
    version = Version(metadata=VERSION)
    customer_version = Version(
        required=True,
        metadata={
            "example": 1,
            "description": "The customer's version you read (the dossier is revised).",
        },
    )


class RecordOut(ma.Schema):
    experience = ma.fields.Nested(ExperienceOut)
    customer = ma.fields.Nested(CustomerOut)
    moved_from = Enum(Quadrant, allow_none=True)
    moved_to = Enum(Quadrant, allow_none=True)


class ExperienceListArgs(PageArgs):
    customer_id = Id(strict=False)
    status = choice(ExperienceStatus)
    category = choice(Touchpoint)
    due_from = Date(metadata={"description": f"Due on or after this date. {CALENDAR}"})
    due_until = Date(metadata={"description": f"Due on or before this date. {CALENDAR}"})


ExperiencePage = page_schema(ExperienceOut, "ExperiencePage")

# --- quadrant events (客户分层变动) ----------------------------------------------------------


class QuadrantEventOut(ma.Schema):
    id = ma.fields.Integer()
    customer_id = ma.fields.Integer()
    from_quadrant = Enum(Quadrant, allow_none=True)
    to_quadrant = Enum(Quadrant)
    liquid_assets = Money()
    willingness = ma.fields.Integer()
    capability_threshold = Money()
    willingness_threshold = ma.fields.Integer()
    cause = Enum(MoveCause)
    experience_id = ma.fields.Integer(allow_none=True)
    note = ma.fields.String(allow_none=True)
    actor_id = ma.fields.Integer(allow_none=True)
    at = DateTime()


class QuadrantEventListArgs(PageArgs):
    customer_id = Id(strict=False)
    to_quadrant = choice(Quadrant)
    cause = choice(MoveCause)
    since = DateTime(metadata={"description": f"At or after this time. {CALENDAR}"})
    until = DateTime(metadata={"description": f"Before this time. {CALENDAR}"})


QuadrantEventPage = page_schema(QuadrantEventOut, "QuadrantEventPage")
