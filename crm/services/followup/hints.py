"""Conversion hints by age (seed 003): what to suggest to a customer whose policy matures.

The seed pairs each age band with a need (protection, education, pension, a steady return);
the shelf says which products suit which ages (``Product.age_bands``, kept by admins), and
the hint narrows them to products the customer may be offered under their risk level (适当性).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from crm.core.clock import local_today
from crm.models import Customer, Product
from crm.services.customers import suitability


@dataclass
class Hint:
    band: LazyString
    advice: LazyString
    products: list[Product] = field(default_factory=list)
    deposit: bool = False


AGE_BANDS = (
    (20, 30, _l("20–30"), _l("protection and accident cover")),
    (31, 40, _l("31–40"), _l("children's education")),
    (41, 50, _l("41–50"), _l("pension planning")),
    (51, 60, _l("51–60"), _l("a steady fixed return")),
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
    """Seed 003's suggestion for the customer's age, with the products on sale that suit that
    age and that they may be offered.

    From 61 the seed advises converting to a deposit: money at hand suits older customers.
    ``shelf``: the products on sale, read once by a caller hinting for a whole list.
    """
    age = age_on(customer.birth_date, today or local_today())
    if age is None or age < 20:
        return None
    on_sale = suitability.active_products() if shelf is None else shelf
    products = [
        p
        for p in on_sale
        if p.suits_age(age) and suitability.allows(customer.risk_level, p.risk_level)
    ]
    if age > 60:
        return Hint(_l("61 and over"), _l("convert to a deposit"), products, deposit=True)
    for low, high, band, advice in AGE_BANDS:
        if low <= age <= high:
            return Hint(band, advice, products)
    return None
