"""Conversion hints by age (seed 003): what to suggest to a customer whose policy matures.

The seed pairs each age band with a need (protection, education, pension, a steady return)
and the product types that answer it; the hint narrows them to products the customer may be
offered under their risk level (适当性).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from crm.core.clock import local_today
from crm.models import Customer, Product
from crm.models.enums import ProductType
from crm.services.customers import suitability


@dataclass
class Hint:
    band: LazyString
    advice: LazyString
    products: list[Product] = field(default_factory=list)
    deposit: bool = False


AGE_BANDS = (
    (
        20,
        30,
        _l("20–30"),
        _l("protection and accident cover"),
        (ProductType.ACCIDENT, ProductType.MEDICAL, ProductType.CRITICAL_ILLNESS),
    ),
    (
        31,
        40,
        _l("31–40"),
        _l("children's education"),
        (ProductType.ANNUITY, ProductType.PARTICIPATING),
    ),
    (
        41,
        50,
        _l("41–50"),
        _l("pension planning"),
        (ProductType.ANNUITY, ProductType.UNIVERSAL),
    ),
    (
        51,
        60,
        _l("51–60"),
        _l("a steady fixed return"),
        (ProductType.PARTICIPATING, ProductType.WHOLE_LIFE),
    ),
)


def age_on(birth_date: date | None, today: date) -> int | None:
    if birth_date is None:
        return None
    return (
        today.year
        - birth_date.year
        - ((today.month, today.day) < (birth_date.month, birth_date.day))
    )


def hint_for(
    customer: Customer, today: date | None = None, shelf: list[Product] | None = None
) -> Hint | None:
    """Seed 003's suggestion for the customer's age, narrowed to products they may be offered.

    From 61 the seed advises converting to a deposit: money at hand suits older customers.
    ``shelf``: the active products, read once by a caller hinting for a whole list.
    """
    age = age_on(customer.birth_date, today or local_today())
    if age is None or age < 20:
        return None
    if age > 60:
        return Hint(_l("61 and over"), _l("convert to a deposit"), deposit=True)
    for low, high, band, advice, types in AGE_BANDS:
        if low <= age <= high:
            suitable = (
                suitability.suitable_products(customer)
                if shelf is None
                else [p for p in shelf if suitability.allows(customer.risk_level, p.risk_level)]
            )
            products = [p for p in suitable if p.product_type in types]
            return Hint(band, advice, products)
    return None
