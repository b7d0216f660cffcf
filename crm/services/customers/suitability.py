"""Suitability (适当性, seed 000): a customer is offered only products at or below their risk level.

Products on the shelf carry the insurer's rating (R1 conservative … R5 aggressive). A policy
recorded without a shelf product is rated by its type, as insurers commonly rate them:
protection R1, savings R2, universal life R3, investment-linked R4. The same check guards a
recommendation made during an experience or a call-back and a sale recorded as a policy.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from crm.core.inputs import as_id
from crm.extensions import db
from crm.models import Customer, Product
from crm.models.enums import ProductType, RiskLevel

DEFAULT_RISK = {
    ProductType.ACCIDENT: RiskLevel.R1,
    ProductType.MEDICAL: RiskLevel.R1,
    ProductType.CRITICAL_ILLNESS: RiskLevel.R1,
    ProductType.WHOLE_LIFE: RiskLevel.R1,
    ProductType.PARTICIPATING: RiskLevel.R2,
    ProductType.ANNUITY: RiskLevel.R2,
    ProductType.UNIVERSAL: RiskLevel.R3,
    ProductType.INVESTMENT_LINKED: RiskLevel.R4,
}

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
    return product.risk_level if product is not None else DEFAULT_RISK[product_type]


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
    """The active shelf product named by an id from a form or API, or an error on ``field``."""
    if raw_id in (None, ""):
        return None
    product = db.session.get(Product, as_id(raw_id) or 0)
    if product is None or not product.active:
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
    """The active shelf products the customer may be offered, safest first."""
    allowed = [level.value for level in LEVELS[: rank(customer.risk_level) + 1]]
    products = db.session.scalars(
        sa.select(Product).where(Product.active.is_(True), Product.risk_level.in_(allowed))
    ).all()
    return sorted(products, key=lambda p: (rank(p.risk_level), p.name))


def active_products() -> list[Product]:
    products = db.session.scalars(sa.select(Product).where(Product.active.is_(True))).all()
    return sorted(products, key=lambda p: (rank(p.risk_level), p.name))
