"""De-identified sharing with the insurer partner (seed 000's 1+1 model, 银保合作数据共享).

Per customer in scope, one CSV row: a keyed pseudonym, an age band, the quadrant, the asset
band, the risk level and the types of product held in force. Nothing else: no name, phone,
birth date, e-mail, no id the bank uses, and no free text at all (notes, occupations, tags
and typed product names may hold anything, a phone number included), so the columns are
read from the database by name and the free-text ones never are.

The pseudonym is HMAC-SHA256 of the customer's id under a key of the partner's own, itself
HMAC-SHA256 of the partner's name under ``CRM_SHARE_SECRET`` (configuration, never in the
database or a file): two exports to one partner name a customer alike, two partners cannot
join their files, and without the secret nobody can go back from a pseudonym to a customer.
Every export is audited: who, to which partner, how many rows.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from crm.core import access, audit
from crm.core.clock import local_today
from crm.core.inputs import InvalidInput, has_control_characters
from crm.extensions import db
from crm.models import Customer, Policy, Staff
from crm.models.enums import PolicyStatus
from crm.services.customers import asset_tiers

SECRET_MIN_LENGTH = 32
PARTNER_LIMIT = 60
BATCH = 1000
COLUMNS = ("pseudonym", "age_band", "quadrant", "asset_band", "risk_level", "products")
# Ten-year bands; the youngest and the oldest open-ended, so that no band holds a few people.
AGE_EDGES = (30, 40, 50, 60, 70)


@dataclass(frozen=True)
class ShareSummary:
    partner: str
    rows: int
    path: Path


def partner_name(text: str | None) -> str:
    """The partner's name as keys are derived from it: NFKC, trimmed, case-folded, so that
    "AIA" and "ａｉａ " are one partner; or ``InvalidInput``."""
    name = unicodedata.normalize("NFKC", text or "").strip().casefold()
    if not name:
        raise InvalidInput({"partner": _l("Name the partner the file is for.")})
    if len(name) > PARTNER_LIMIT or has_control_characters(name):
        raise InvalidInput({"partner": _l("This is not a partner's name.")})
    return name


def partner_key(secret: str, partner: str) -> bytes:
    """The partner's own pseudonym key, derived from the bank's secret (never stored)."""
    return hmac.new(secret.encode(), b"partner:" + partner.encode(), hashlib.sha256).digest()


def pseudonym(key: bytes, customer_id: int) -> str:
    return hmac.new(key, f"customer:{customer_id}".encode(), hashlib.sha256).hexdigest()


def age_band(birth_date: date | None, today: date) -> str:
    """ "40-49" and the like; "" when the birth date is unknown."""
    if birth_date is None:
        return ""
    age = (
        today.year
        - birth_date.year
        - ((today.month, today.day) < (birth_date.month, birth_date.day))
    )
    if age < AGE_EDGES[0]:
        return f"0-{AGE_EDGES[0] - 1}"
    for low, high in zip(AGE_EDGES, AGE_EDGES[1:], strict=False):
        if age < high:
            return f"{low}-{high - 1}"
    return f"{AGE_EDGES[-1]}+"


def asset_band(amount: Decimal, tiers: list[asset_tiers.Tier]) -> str:
    """The asset tier (资产分层) as yuan bounds: "1000000-5000000", "5000000+"."""
    tier = asset_tiers.tier_of(amount, tiers)
    low = f"{tier.low:.0f}"
    return f"{low}+" if tier.high is None else f"{low}-{tier.high:.0f}"


def _secret() -> str:
    secret = current_app.config.get("CRM_SHARE_SECRET") or ""
    if len(secret) < SECRET_MIN_LENGTH:
        raise InvalidInput(
            {
                "partner": _l(
                    "Set CRM_SHARE_SECRET to a random string of at least %(n)d characters "
                    "before sharing: the pseudonyms are keyed with it.",
                    n=SECRET_MIN_LENGTH,
                )
            }
        )
    return secret


def _rows(user: Staff | None, key: bytes, today: date) -> Iterator[list[str]]:
    """The rows, a batch of customers at a time; only the shared columns are read."""
    tiers = asset_tiers.current_tiers()
    scope = access.customer_scope(user) if user is not None else sa.true()
    columns = sa.select(
        Customer.id,
        Customer.birth_date,
        Customer.quadrant,
        Customer.liquid_assets,
        Customer.risk_level,
    ).where(scope)
    last = 0
    while True:
        batch = db.session.execute(
            columns.where(Customer.id > last).order_by(Customer.id).limit(BATCH)
        ).all()
        if not batch:
            return
        held: dict[int, set[str]] = {}
        for customer_id, kind in db.session.execute(
            sa.select(Policy.customer_id, Policy.product_type).where(
                Policy.customer_id.in_([row.id for row in batch]),
                Policy.status == PolicyStatus.IN_FORCE,
            )
        ):
            held.setdefault(customer_id, set()).add(kind.value)
        for row in batch:
            yield [
                pseudonym(key, row.id),
                age_band(row.birth_date, today),
                row.quadrant.value,
                asset_band(row.liquid_assets, tiers),
                row.risk_level.value,
                ";".join(sorted(held.get(row.id, ()))),
            ]
        last = batch[-1].id


def export_share(user: Staff | None, partner: str, out: Path) -> ShareSummary:
    """Write the de-identified file for ``partner`` (customers in ``user``'s scope; None:
    the whole bank) to ``out`` and audit it; the caller commits."""
    name = partner_name(partner)
    key = partner_key(_secret(), name)
    rows = 0
    with out.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(COLUMNS)
        for row in _rows(user, key, local_today()):
            writer.writerow(row)
            rows += 1
    audit.record(
        user,
        "partner_share",
        0,
        "export",
        {"partner": (None, name), "rows": (None, rows), "file": (None, out.name)},
    )
    return ShareSummary(name, rows, out)
