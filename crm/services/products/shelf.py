"""The product shelf (产品货架): the products the bank sells, as admins keep them.

Admins add, edit and retire products; every change is audited. A product that a policy, an
experience or a call-back names is retired, never deleted: the record that names it must
still say what was sold or talked about. Suitability (适当性) and the call-back hints read the
shelf as it is on the day: products retired, or outside their dates on sale, are not offered.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from crm.core import audit
from crm.core.inputs import (
    InvalidInput,
    date_refusal,
    flush_or_explain,
    refuse_control_characters,
    refuse_too_long,
)
from crm.extensions import db
from crm.models import Experience, MaturityCallback, Policy, Product, Staff
from crm.models.enums import ProductType, RiskLevel
from crm.models.product import AGE_MAX, TERM_YEARS_MAX

# What an admin sets, in the order the form, the audit and the CSV/XLSX columns show it.
FIELDS = (
    "name",
    "insurer",
    "product_type",
    "risk_level",
    "term_years",
    "single_premium",
    "regular_years",
    "investment_type",
    "age_bands",
    "active_from",
    "active_to",
)
_LIST_SEPARATORS = re.compile(r"\s*[,，、;；/]\s*|\s+")
_BAND = re.compile(r"(\d{1,3})\s*(?:[-–—~～至到]\s*(\d{1,3})?|\+|岁以上|及以上)?")
_WHOLE = re.compile(r"\d{1,3}")

NAME_TAKEN = _l("This insurer already has a product of this name on the shelf.")


# --- reading what an admin typed or a file holds ------------------------------------------


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _whole(text: str, low: int, high: int) -> int | None:
    return int(text) if _WHOLE.fullmatch(text) and low <= int(text) <= high else None


def _date(value: Any, field: str, errors: dict) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        day = value
    else:
        try:
            day = date.fromisoformat(_text(value))
        except ValueError:
            errors[field] = _l("Enter a date such as 2027-01-31.")
            return None
    reason = date_refusal(day)
    if reason:
        errors[field] = reason
        return None
    return day


def _regular_years(value: Any, errors: dict) -> str:
    texts = value if isinstance(value, list | tuple) else _LIST_SEPARATORS.split(_text(value))
    years = []
    for text in (_text(t).removesuffix("年") for t in texts):
        if not text:
            continue
        year = _whole(text, 1, TERM_YEARS_MAX)
        if year is None:
            errors["regular_years"] = _l(
                "Enter the regular-premium terms as whole numbers of years, such as 3, 5, 10."
            )
            return ""
        years.append(year)
    return ",".join(str(y) for y in sorted(set(years)))


def _age_bands(value: Any, errors: dict) -> str:
    bands = []
    for text in (t for t in re.split(r"\s*[,，、;；]\s*", _text(value)) if t):
        match = _BAND.fullmatch(text.removesuffix("岁"))
        low = int(match.group(1)) if match else None
        high = int(match.group(2)) if match and match.group(2) else None
        open_ended = match is not None and match.group(2) is None and text != match.group(1)
        if (
            match is None
            or low > AGE_MAX
            or (high is not None and not low <= high <= AGE_MAX)
            or (high is None and not open_ended)
        ):
            errors["age_bands"] = _l(
                "Enter age bands such as 31-40, 51-60 or 61+, ages from 0 to %(max)d.",
                max=AGE_MAX,
            )
            return ""
        bands.append((low, high))
    return ",".join(f"{low}-{'' if high is None else high}" for low, high in sorted(set(bands)))


def read_product(data: Mapping[str, Any], current: Product | None = None) -> dict[str, Any]:
    """A product's fields from a form, the API or a file row, or ``InvalidInput`` saying what
    is wrong with each: nothing is written either way."""
    errors: dict[str, Any] = {}
    out: dict[str, Any] = {"name": _text(data.get("name")), "insurer": _text(data.get("insurer"))}
    refuse_control_characters(out, errors)
    refuse_too_long({"name": (out["name"], 120), "insurer": (out["insurer"], 120)}, errors)
    if not out["name"]:
        errors["name"] = _l("Enter the product's name.")
    try:
        out["product_type"] = ProductType(_text(data.get("product_type")))
    except ValueError:
        errors["product_type"] = _l("Choose one of the listed product types.")
    try:
        out["risk_level"] = RiskLevel(_text(data.get("risk_level")).upper())
    except ValueError:
        errors["risk_level"] = _l("Choose a risk level from R1 to R5.")
    term = _text(data.get("term_years")).removesuffix("年")
    out["term_years"] = _whole(term, 1, TERM_YEARS_MAX) if term else None
    if term and out["term_years"] is None:
        errors["term_years"] = _l(
            "Enter the term as a whole number of years from 1 to %(max)d, or leave it empty "
            "for cover for life.",
            max=TERM_YEARS_MAX,
        )
    out["single_premium"] = bool(data.get("single_premium"))
    out["regular_years"] = _regular_years(data.get("regular_years"), errors)
    out["investment_type"] = bool(data.get("investment_type"))
    out["age_bands"] = _age_bands(data.get("age_bands"), errors)
    out["active_from"] = _date(data.get("active_from"), "active_from", errors)
    out["active_to"] = _date(data.get("active_to"), "active_to", errors)
    if out["active_from"] and out["active_to"] and out["active_to"] < out["active_from"]:
        errors["active_to"] = _l("The last day on sale cannot be before the first.")
    if "name" not in errors and _name_taken(out["name"], out["insurer"], current):
        errors["name"] = NAME_TAKEN
    if errors:
        raise InvalidInput(errors)
    return out


def _name_taken(name: str, insurer: str, current: Product | None) -> bool:
    query = sa.select(Product.id).where(Product.name == name, Product.insurer == insurer)
    if current is not None and current.id is not None:
        query = query.where(Product.id != current.id)
    return db.session.scalar(query.limit(1)) is not None


# --- changes -------------------------------------------------------------------------------

_CLASH = (("uq_product_name_insurer", "product.name, product.insurer"), "name", NAME_TAKEN)


def add_product(actor: Staff | None, data: Mapping[str, Any]) -> Product:
    """Put a new product on the shelf (audited; the caller commits)."""
    values = read_product(data)
    product = Product(**values, active=True)
    db.session.add(product)
    flush_or_explain(_CLASH)
    audit.record(actor, "product", product.id, "create", audit.diff({}, values))
    return product


def update_product(
    actor: Staff | None, product: Product, data: Mapping[str, Any], version: int | None = None
) -> dict:
    """Change a product (audited; the caller commits); ``version``: the one the edit began
    from, refused if someone saved the product since."""
    if version is not None and version != product.version:
        raise InvalidInput(
            {
                "": _l(
                    "Someone else saved this product since you opened it. Check the current "
                    "values and save again."
                )
            }
        )
    values = read_product(data, product)
    changes = audit.diff({f: getattr(product, f) for f in FIELDS}, values)
    for field, (_old, new) in changes.items():
        setattr(product, field, new)
    if changes:
        flush_or_explain(_CLASH)
        audit.record(actor, "product", product.id, "update", changes, version=product.version)
    return changes


def in_use(product: Product) -> bool:
    """Whether a policy, an experience or a call-back names the product."""
    return any(
        db.session.scalar(sa.select(sa.exists().where(model.product_id == product.id)))
        for model in (Policy, Experience, MaturityCallback)
    )


def retire_product(actor: Staff | None, product: Product) -> None:
    """Take a product off the shelf, keeping it for the records that name it (audited)."""
    if product.active:
        product.active = False
        audit.record(actor, "product", product.id, "retire", {"active": (True, False)})


def reinstate_product(actor: Staff | None, product: Product) -> None:
    """Put a retired product back on the shelf (audited)."""
    if not product.active:
        product.active = True
        audit.record(actor, "product", product.id, "reinstate", {"active": (False, True)})


def delete_product(actor: Staff | None, product: Product) -> None:
    """Delete a product entered by mistake; one that any record names is refused (retire it)."""
    if in_use(product):
        raise InvalidInput(
            {
                "": _l(
                    "Policies, experiences or call-backs name this product, so it cannot be "
                    "deleted. Retire it instead: it then leaves the shelf and the records keep it."
                )
            }
        )
    gone = {f: (getattr(product, f), None) for f in FIELDS}
    audit.record(actor, "product", product.id, "delete", gone)
    db.session.delete(product)


# --- reading the shelf ---------------------------------------------------------------------


def every_product() -> list[Product]:
    """The whole shelf, retired products included, by type and name."""
    return list(
        db.session.scalars(
            sa.select(Product).order_by(Product.active.desc(), Product.product_type, Product.name)
        )
    )


def on_sale(day: date) -> list[Product]:
    """The products on the shelf on ``day``: not retired, and within their dates on sale."""
    query = sa.select(Product).where(
        Product.active.is_(True),
        sa.or_(Product.active_from.is_(None), Product.active_from <= day),
        sa.or_(Product.active_to.is_(None), Product.active_to >= day),
    )
    return list(db.session.scalars(query))


def find(name: str, insurer: str) -> Product | None:
    """The product of this name from this insurer, retired or not."""
    return db.session.scalar(
        sa.select(Product).where(Product.name == name.strip(), Product.insurer == insurer.strip())
    )


def band_text(product: Product) -> str:
    """The age bands as admins type them: "31-40, 61+"."""
    return ", ".join(
        f"{low}-{high}" if high is not None else f"{low}+" for low, high in product.bands
    )


def type_rating(product_type: ProductType) -> RiskLevel | None:
    """How the shelf rates a type: its highest-rated product of that type (None: the shelf has
    none), for a policy recorded without naming a shelf product."""
    levels = db.session.scalars(
        sa.select(Product.risk_level).where(Product.product_type == product_type).distinct()
    ).all()
    order = list(RiskLevel)
    return max(levels, key=order.index) if levels else None
