"""Suitability (适当性, seed 000): a customer is offered only products at or below their risk level.

Products on the shelf (crm.services.products.shelf) carry the insurer's rating (R1
conservative … R5 aggressive), kept by admins. A policy recorded without a shelf product is
rated as the shelf rates its type: its highest-rated product of that type; a type the shelf
holds nothing of is rated R5, so that only the boldest may be sold what nobody has rated. The
same check guards a recommendation made during an experience or a call-back and a sale
recorded as a policy.
"""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from crm.core.clock import local_today
from crm.core.inputs import as_id
from crm.extensions import db
from crm.models import Customer, Product
from crm.models.enums import ProductType, RiskLevel
from crm.services.products import shelf

LEVELS = list(RiskLevel)

# What each level may be offered, in the words staff use with customers.
WITHIN = {
    RiskLevel.R1: _l("protection products only"),
    RiskLevel.R2: _l("protection and savings products"),
    RiskLevel.R3: _l("protection, savings and universal life products"),
    RiskLevel.R4: _l("all products except those rated R5"),
    RiskLevel.R5: _l("all products"),
}


def rank(level: RiskLevel) -> int:
    return LEVELS.index(level)


def risk_of(product_type: ProductType, product: Product | None = None) -> RiskLevel:
    if product is not None:
        return product.risk_level
    return shelf.type_rating(product_type) or RiskLevel.R5


def allows(customer_level: RiskLevel, product_level: RiskLevel) -> bool:
    return rank(product_level) <= rank(customer_level)


def refusal(customer: Customer, product_level: RiskLevel) -> LazyString | None:
    """Why the product may not be offered to this customer, or None if it may."""
    if allows(customer.risk_level, product_level):
        return None
    return _l(
        "Not suitable: the product is rated %(product)s, above the customer's risk level "
        "%(customer)s (%(customer)s: %(within)s).",
        product=product_level.value,
        customer=customer.risk_level.value,
        within=WITHIN[customer.risk_level],
    )


def shelf_product(raw_id, field: str, errors: dict) -> Product | None:
    """The shelf product on sale today named by an id from a form or API, or an error on
    ``field``."""
    if raw_id in (None, ""):
        return None
    product = db.session.get(Product, as_id(raw_id) or 0)
    if product is None or not product.on_sale(local_today()):
        errors[field] = _l("Choose one of the listed products.")
        return None
    return product


def check_product(customer: Customer, product: Product | None, field: str, errors: dict) -> None:
    """Refuse on ``field`` a recommendation of ``product`` above the customer's level."""
    if product is None:
        return
    reason = refusal(customer, product.risk_level)
    if reason is not None:
        errors[field] = reason


def suitable_products(customer: Customer) -> list[Product]:
    """The products on sale today that the customer may be offered, safest first."""
    return [p for p in active_products() if allows(customer.risk_level, p.risk_level)]


def offered(customer: Customer, keep: int | None = None) -> list[tuple[Product, LazyString | None]]:
    """The products on sale today as a form lists them for the customer, safest first: each
    with why it may not be chosen (above the customer's risk level), or None. ``keep``, the
    product a policy already names, stays choosable: it was sold before a re-assessment."""
    return [
        (
            p,
            None
            if p.id == keep or allows(customer.risk_level, p.risk_level)
            else _l("above the customer's risk level %(level)s", level=customer.risk_level.value),
        )
        for p in active_products()
    ]


def offered_types(
    customer: Customer, keep: ProductType | None = None
) -> list[tuple[ProductType, LazyString | None]]:
    """The product types a policy named without a shelf product may take, as ``offered``
    lists products: each rated as the shelf rates its type (``risk_of``)."""
    return [
        (
            t,
            None
            if t == keep or allows(customer.risk_level, risk_of(t))
            else _l("above the customer's risk level %(level)s", level=customer.risk_level.value),
        )
        for t in ProductType
    ]


def active_products() -> list[Product]:
    """The products on sale today, safest first."""
    products = shelf.on_sale(local_today())
    return sorted(products, key=lambda p: (rank(p.risk_level), p.name))
