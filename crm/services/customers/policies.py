"""Policies (保单) on a dossier: adding and revising them, with the same audit and locking."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l

from crm.core import audit
from crm.core.clock import local_today
from crm.core.inputs import (
    InvalidInput,
    flush_or_explain,
    is_taken,
    latest_date,
    parse_amount,
    refuse_control_characters,
    refuse_too_long,
)
from crm.core.revisions import flush_revision, require_version
from crm.extensions import db
from crm.models import Customer, Policy, Staff
from crm.models.enums import PaymentMode, PolicyStatus, ProductType
from crm.services.customers import compliance, suitability

POLICY_FIELDS = (
    "policy_number",
    "product_name",
    "product_type",
    "premium",
    "payment_mode",
    "start_date",
    "maturity_date",
    "status",
    "product_id",
    *compliance.FIELDS,
)
MAX_PREMIUM = Decimal("10000000000.00")
NUMBER_LIMIT = 40
PRODUCT_LIMIT = 120
NUMBER_CLASH = (
    ("policy.policy_number", "uq_policy_policy_number"),
    "policy_number",
    _l("This policy number is already recorded."),
)


def clean_policy(
    data: Mapping[str, Any], policy: Policy | None = None, customer: Customer | None = None
) -> dict[str, Any]:
    """Check a policy against the rules; return it normalised or raise ``InvalidInput``.

    With ``customer``, the sale is also checked for suitability: a product above the
    customer's risk level is refused with the reason.
    """
    errors: dict[str, Any] = {}
    out: dict[str, Any] = {}
    shelf = suitability.shelf_product(data.get("product_id"), "product_id", errors)
    out["product_id"] = shelf.id if shelf else None
    if shelf is not None:
        # A shelf product names itself and its type; the form's fields may stay empty.
        data = {**data, "product_name": data.get("product_name") or shelf.name}
        data["product_type"] = shelf.product_type.value

    number = (data.get("policy_number") or "").strip().upper()
    if not number:
        errors["policy_number"] = _l("Enter the policy number.")
    elif len(number) <= NUMBER_LIMIT and is_taken(Policy.policy_number, number, excluding=policy):
        errors["policy_number"] = _l("This policy number is already recorded.")
    out["policy_number"] = number

    product = (data.get("product_name") or "").strip()
    if not product:
        errors["product_name"] = _l("Enter the product name.")
    out["product_name"] = product
    refuse_too_long(
        {"policy_number": (number, NUMBER_LIMIT), "product_name": (product, PRODUCT_LIMIT)},
        errors,
    )

    for field, enum in (
        ("product_type", ProductType),
        ("payment_mode", PaymentMode),
        ("status", PolicyStatus),
    ):
        try:
            out[field] = enum(
                data.get(field) or (PolicyStatus.IN_FORCE if field == "status" else "")
            )
        except ValueError:
            errors[field] = _l("Choose one of the listed values.")

    out["premium"] = parse_amount(
        data.get("premium"),
        "premium",
        errors,
        maximum=MAX_PREMIUM,
        positive=True,
        messages={
            "negative": _l("The premium must be more than zero."),
            "zero": _l("The premium must be more than zero."),
        },
    )

    start, maturity = data.get("start_date"), data.get("maturity_date")
    if start is None:
        errors["start_date"] = _l("Enter the start date.")
    elif start > local_today() + timedelta(days=366):
        errors["start_date"] = _l("The start date is more than a year ahead.")
    elif start.year < 1950:
        errors["start_date"] = _l("The start date is implausibly early; check the year.")
    if start is not None and maturity is not None and maturity <= start:
        errors["maturity_date"] = _l("The maturity date must come after the start date.")
    elif maturity is not None and maturity > latest_date():
        errors["maturity_date"] = _l(
            "The maturity date is more than a hundred years ahead; check the year."
        )
    out["start_date"], out["maturity_date"] = start, maturity

    sold = policy is None or (
        (policy.product_type, policy.product_id) != (out.get("product_type"), out["product_id"])
    )
    out.update(compliance.read(data))
    # A new sale, or a change to what it carried, needs the whole record; a policy held
    # since before the rule stays editable as it is.
    if "product_type" in out and (sold or compliance.changed(policy, out)):
        compliance.check(out["product_type"], shelf, out, errors)
    # Only a new sale is checked: a policy held since before a risk re-assessment stays editable.
    if customer is not None and sold and "product_type" in out and "product_id" not in errors:
        reason = suitability.refusal(customer, suitability.risk_of(out["product_type"], shelf))
        if reason is not None:
            errors["product_id" if shelf else "product_type"] = reason

    refuse_control_characters(out, errors)
    if errors:
        raise InvalidInput(errors)
    return out


def add_policy(
    user: Staff, customer: Customer, data: Mapping[str, Any], opportunity_id: int | None = None
) -> Policy:
    """Record a policy the customer holds (sold from ``opportunity_id``, when the pipeline's
    won opportunity records it); the caller commits."""
    values = clean_policy(data, customer=customer)
    values["opportunity_id"] = opportunity_id
    policy = Policy(customer=customer, version=1, **values)
    db.session.add(policy)
    flush_or_explain(NUMBER_CLASH)
    audit.record(
        user,
        "policy",
        policy.id,
        "create",
        {k: (None, v) for k, v in values.items() if v is not None},
        customer_id=customer.id,
        version=policy.version,
    )
    return policy


def update_policy(
    user: Staff, policy: Policy, data: Mapping[str, Any], expected_version: int
) -> dict[str, tuple[Any, Any]]:
    """Revise a policy as of ``expected_version``; raises ``StaleDossier`` if it moved on."""
    customer = policy.customer
    require_version(policy, expected_version, customer)
    values = clean_policy(data, policy, customer=customer)
    before = {f: getattr(policy, f) for f in POLICY_FIELDS}
    changes = audit.diff(before, values)
    if not changes:
        return {}
    for field, (_, new) in changes.items():
        setattr(policy, field, new)
    flush_revision(Policy, policy.id, expected_version, NUMBER_CLASH)
    audit.record(
        user,
        "policy",
        policy.id,
        "update",
        changes,
        customer_id=customer.id,
        version=policy.version,
    )
    return changes
