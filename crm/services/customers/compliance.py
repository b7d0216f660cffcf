"""Sales compliance (seed 000) for investment-type products (投资型: 分红, 万能, 投连).

A bancassurance sale of such a product needs the dual recording (双录, its reference), the
customer shown that the illustrated returns are a hypothetical scenario (收益演示为假设情景)
and the customer's acknowledgement of the product's risk (已了解产品风险). The policy's own
rules (``policies.clean_policy``) call this, so a sale recorded from the pipeline, by hand or
by import is refused alike, with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from crm.models import Policy, Product
from crm.models.enums import ProductType

FIELDS = ("dual_recording_ref", "returns_notice_shown", "risk_acknowledged")
REFERENCE_LIMIT = 60

# The types that are investment-type whatever the shelf says; a shelf product may be marked
# investment-type besides (Product.investment_type).
INVESTMENT_TYPES = frozenset(
    {ProductType.PARTICIPATING, ProductType.UNIVERSAL, ProductType.INVESTMENT_LINKED}
)

MISSING = {
    "dual_recording_ref": _l(
        "An investment-type product needs the dual-recording reference (双录编号)."
    ),
    "returns_notice_shown": _l(
        "An investment-type product needs the confirmation that the customer was shown the "
        "returns are a hypothetical scenario."
    ),
    "risk_acknowledged": _l(
        "An investment-type product needs the customer's acknowledgement of the product's risk."
    ),
}


def is_investment(product_type: ProductType | str, product: Product | None = None) -> bool:
    """Whether a sale of this type (or shelf product) needs the compliance record."""
    if product is not None and product.investment_type:
        return True
    return ProductType(product_type) in INVESTMENT_TYPES


def read(data: Mapping[str, Any]) -> dict[str, Any]:
    """The compliance fields as a form, the API or a file gives them."""
    reference = str(data.get("dual_recording_ref") or "").strip()
    return {
        "dual_recording_ref": reference or None,
        "returns_notice_shown": bool(data.get("returns_notice_shown")),
        "risk_acknowledged": bool(data.get("risk_acknowledged")),
    }


def changed(policy: Policy | None, values: Mapping[str, Any]) -> bool:
    return policy is not None and any(getattr(policy, field) != values[field] for field in FIELDS)


def check(
    product_type: ProductType,
    product: Product | None,
    values: Mapping[str, Any],
    errors: dict[str, Any],
) -> None:
    """Add the reason for each compliance field an investment-type sale lacks."""
    reference = values.get("dual_recording_ref")
    if reference and len(reference) > REFERENCE_LIMIT:
        errors["dual_recording_ref"] = _l("At most %(n)d characters.", n=REFERENCE_LIMIT)
    if not is_investment(product_type, product):
        return
    for field in FIELDS:
        if not values.get(field):
            errors.setdefault(field, MISSING[field])
