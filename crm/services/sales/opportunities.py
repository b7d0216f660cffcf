"""Opportunities (商机, seed 004's Harvest): opened on a customer for a product of the shelf,
moved stage by stage, then won (成交) by recording the policy or lost (未成交) with a reason.

Every change is audited on the customer's dossier and checked against the version it began
from. Winning records the policy through the policy service (``policies.add_policy``), so a
sale from the pipeline obeys exactly the rules of one entered by hand or imported: the
product must suit the customer's risk level, and an investment-type product needs seed 000's
compliance record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from crm.core import access, audit
from crm.core.clock import local_today
from crm.core.inputs import (
    InvalidInput,
    as_id,
    date_refusal,
    flush_or_explain,
    parse_amount,
    refuse_control_characters,
    refuse_too_long,
)
from crm.core.revisions import flush_revision, require_version
from crm.extensions import db
from crm.models import (
    AuditLog,
    Customer,
    Experience,
    GroupEvent,
    MaturityCallback,
    Opportunity,
    Staff,
)
from crm.models.enums import (
    OPEN_STAGES,
    CallbackIntent,
    OpportunitySource,
    PaymentMode,
    Response,
    SalesStage,
)
from crm.services.customers import compliance, policies, suitability
from crm.services.sales import stages

# What a person sets, in the order the form and the audit show it.
FIELDS = (
    "product_id",
    "expected_premium",
    "payment_mode",
    "expected_close_on",
    "source",
    "experience_id",
    "callback_id",
    "group_event_id",
    "notes",
)
NOTES_LIMIT = 2000
REASON_LIMIT = 200
MAX_PREMIUM = policies.MAX_PREMIUM

CLOSED = _l("This opportunity is closed (won or lost); it can no longer change.")


def _source(customer: Customer, data: Mapping[str, Any], errors: dict) -> dict[str, Any]:
    """The source and the record it names, which must be this customer's."""
    out: dict[str, Any] = {"experience_id": None, "callback_id": None, "group_event_id": None}
    try:
        out["source"] = OpportunitySource(data.get("source") or OpportunitySource.OTHER)
    except ValueError:
        errors["source"] = _l("Choose one of the listed values.")
        return out
    for field, model in (("experience_id", Experience), ("callback_id", MaturityCallback)):
        raw = data.get(field)
        if raw in (None, ""):
            continue
        record = db.session.get(model, as_id(raw) or 0)
        if record is None or record.customer_id != customer.id:
            errors[field] = _l("This record is not one of this customer's.")
        else:
            out[field] = record.id
    raw = data.get("group_event_id")
    if raw not in (None, ""):
        event = db.session.get(GroupEvent, as_id(raw) or 0)
        if event is None or event.branch_id != customer.branch_id:
            errors["group_event_id"] = _l("Choose an event of the customer's branch.")
        else:
            out["group_event_id"] = event.id
    return out


def clean(
    user: Staff,
    customer: Customer,
    data: Mapping[str, Any],
    opportunity: Opportunity | None = None,
) -> dict[str, Any]:
    """Check an opportunity against the rules; return it normalised or raise ``InvalidInput``."""
    errors: dict[str, Any] = {}
    out: dict[str, Any] = {}
    keep = opportunity.product_id if opportunity is not None else None
    if keep is not None and str(data.get("product_id")) == str(keep):
        product = opportunity.product  # perhaps off the shelf since: still the one talked about
    else:
        product = suitability.shelf_product(data.get("product_id"), "product_id", errors)
        if product is None and "product_id" not in errors:
            errors["product_id"] = _l("Choose a product from the shelf.")
    if product is not None and product.id != keep:
        suitability.check_product(customer, product, "product_id", errors)
    out["product_id"] = product.id if product is not None else None

    out["expected_premium"] = parse_amount(
        data.get("expected_premium"),
        "expected_premium",
        errors,
        maximum=MAX_PREMIUM,
        positive=True,
        messages={
            "invalid": _l("Enter the expected premium in yuan, such as 50000."),
            "negative": _l("The expected premium must be more than zero."),
            "zero": _l("The expected premium must be more than zero."),
        },
    )
    try:
        out["payment_mode"] = PaymentMode(data.get("payment_mode") or "")
    except ValueError:
        errors["payment_mode"] = _l("Choose regular or single premium.")

    opened = opportunity.opened_on if opportunity is not None else local_today()
    close = data.get("expected_close_on")
    if isinstance(close, str):
        close = _read_date(close)
    if not isinstance(close, date):
        errors["expected_close_on"] = _l("Enter the expected close date, such as 2026-12-31.")
    elif close < opened:
        errors["expected_close_on"] = _l(
            "The expected close date cannot be before the opportunity opened (%(day)s).",
            day=opened.isoformat(),
        )
    elif (refusal := date_refusal(close)) is not None:
        errors["expected_close_on"] = refusal
    out["expected_close_on"] = close if isinstance(close, date) else None

    out.update(_source(customer, data, errors))
    notes = str(data.get("notes") or "").strip()
    out["notes"] = notes or None
    refuse_too_long({"notes": (notes, NOTES_LIMIT)}, errors)
    refuse_control_characters(out, errors)
    if errors:
        raise InvalidInput(errors)
    return out


def _read_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def open_opportunity(user: Staff, customer: Customer, data: Mapping[str, Any]) -> Opportunity:
    """Open an opportunity on a customer ``user`` may see, at the lead stage (线索)."""
    if not access.can_see_customer(user, customer):
        raise InvalidInput({"customer_id": _l("No such customer, or not one you may see.")})
    values = clean(user, customer, data)
    # A referral is the customer's own: who brought them in.
    referrer = customer.referred_by_id if values["source"] == OpportunitySource.REFERRAL else None
    opportunity = Opportunity(
        customer=customer,
        owner_id=customer.owner_id,
        branch_id=customer.branch_id,
        stage=SalesStage.LEAD,
        opened_on=local_today(),
        referrer_id=referrer,
        version=1,
        **values,
    )
    db.session.add(opportunity)
    flush_or_explain()
    audit.record(
        user,
        "opportunity",
        opportunity.id,
        "create",
        {k: (None, v) for k, v in values.items() if v is not None}
        | {"sales_stage": (None, SalesStage.LEAD)},
        customer_id=customer.id,
        version=opportunity.version,
    )
    return opportunity


def _require_open(opportunity: Opportunity) -> None:
    if not opportunity.is_open:
        raise InvalidInput({"stage": CLOSED})


def _save(
    user: Staff, opportunity: Opportunity, changes: dict, expected_version: int, action: str
) -> None:
    for field, (_, new) in changes.items():
        setattr(opportunity, "stage" if field == "sales_stage" else field, new)
    flush_revision(Opportunity, opportunity.id, expected_version)
    audit.record(
        user,
        "opportunity",
        opportunity.id,
        action,
        changes,
        customer_id=opportunity.customer_id,
        version=opportunity.version,
    )


def update_opportunity(
    user: Staff, opportunity: Opportunity, data: Mapping[str, Any], expected_version: int
) -> dict[str, tuple[Any, Any]]:
    """Revise an open opportunity as of ``expected_version``."""
    require_version(opportunity, expected_version, opportunity.customer)
    _require_open(opportunity)
    values = clean(user, opportunity.customer, data, opportunity)
    changes = audit.diff({f: getattr(opportunity, f) for f in FIELDS}, values)
    if changes:
        _save(user, opportunity, changes, expected_version, "update")
    return changes


def advance(user: Staff, opportunity: Opportunity, expected_version: int) -> SalesStage:
    """Move an open opportunity to the next stage; from closing (促成) it is won or lost."""
    require_version(opportunity, expected_version, opportunity.customer)
    _require_open(opportunity)
    following = stages.next_stage(opportunity.stage)
    if following is None:
        raise InvalidInput(
            {"stage": _l("At closing the sale is recorded as won, or the opportunity as lost.")}
        )
    _save(
        user,
        opportunity,
        {"sales_stage": (opportunity.stage, following)},
        expected_version,
        "move",
    )
    return following


def lose(user: Staff, opportunity: Opportunity, reason: str | None, expected_version: int) -> None:
    """Close an open opportunity as lost (未成交), saying why."""
    require_version(opportunity, expected_version, opportunity.customer)
    _require_open(opportunity)
    reason = (reason or "").strip()
    errors: dict[str, Any] = {}
    if not reason:
        errors["lost_reason"] = _l("Say why the sale was not made.")
    refuse_too_long({"lost_reason": (reason, REASON_LIMIT)}, errors)
    refuse_control_characters({"lost_reason": reason}, errors)
    if errors:
        raise InvalidInput(errors)
    changes = {
        "sales_stage": (opportunity.stage, SalesStage.LOST),
        "lost_from": (None, opportunity.stage),
        "lost_reason": (None, reason),
        "closed_on": (None, local_today()),
    }
    _save(user, opportunity, changes, expected_version, "move")


def win(user: Staff, opportunity: Opportunity, data: Mapping[str, Any], expected_version: int):
    """Close an opportunity at closing (促成) as won (成交) by recording its policy through
    the policy service, which refuses an unsuitable product or a missing compliance record.
    The opportunity then carries what was sold (the policy's premium and payment mode)."""
    require_version(opportunity, expected_version, opportunity.customer)
    _require_open(opportunity)
    if opportunity.stage != SalesStage.CLOSING:
        raise InvalidInput(
            {"stage": _l("Move the opportunity to closing before recording the sale.")}
        )
    sale = {
        "premium": opportunity.expected_premium,
        "payment_mode": opportunity.payment_mode.value,
        "start_date": local_today(),
        **data,
        "product_id": opportunity.product_id,  # what the opportunity is about, always
    }
    policy = policies.add_policy(user, opportunity.customer, sale, opportunity_id=opportunity.id)
    changes = audit.diff(
        {
            "sales_stage": opportunity.stage,
            "expected_premium": opportunity.expected_premium,
            "payment_mode": opportunity.payment_mode,
            "closed_on": None,
        },
        {
            "sales_stage": SalesStage.WON,
            "expected_premium": policy.premium,
            "payment_mode": policy.payment_mode,
            "closed_on": local_today(),
        },
    )
    _save(user, opportunity, changes, expected_version, "move")
    return policy


def needs_compliance(opportunity: Opportunity) -> bool:
    """Whether its sale needs seed 000's compliance record (an investment-type product)."""
    product = opportunity.product
    return compliance.is_investment(product.product_type, product)


def history(opportunity: Opportunity) -> Sequence[sa.Row]:
    """The opportunity's audit rows, newest first, each with ``actor_name``."""
    query = (
        sa.select(*AuditLog.__table__.c, Staff.display_name.label("actor_name"))
        .outerjoin(Staff, Staff.id == AuditLog.actor_id)
        .where(AuditLog.entity == "opportunity", AuditLog.entity_id == opportunity.id)
        .order_by(AuditLog.id.desc())
    )
    return db.session.execute(query).all()


# Outcomes that show interest in buying: an experience the customer responded to warmly, a
# maturity call-back where they mean to take a new policy (转新保单).
INTERESTED_RESPONSES = frozenset({Response.ENTHUSIASTIC, Response.POSITIVE})


def offer_after(record: Experience | MaturityCallback) -> dict[str, int]:
    """What an offer to open an opportunity carries after a recorded experience or call-back
    whose outcome was interest (the customer and the record), or nothing."""
    if isinstance(record, Experience):
        if record.response in INTERESTED_RESPONSES:
            return {"offer_customer": record.customer_id, "experience_id": record.id}
    elif record.intent == CallbackIntent.NEW_POLICY:
        return {"offer_customer": record.customer_id, "callback_id": record.id}
    return {}


def follow_customers(customer_ids: sa.Select, receiver: Staff, now) -> int:
    """The open opportunities of customers handed to ``receiver`` go with them (no commit).

    An opportunity keeps its seller and branch (the board reads them alone), so a handover
    moves them here; closed ones stay credited to whoever closed them."""
    return db.session.execute(
        sa.update(Opportunity)
        .where(Opportunity.stage.in_(OPEN_STAGES), Opportunity.customer_id.in_(customer_ids))
        .values(
            owner_id=receiver.id,
            branch_id=receiver.branch_id,
            version=Opportunity.version + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
