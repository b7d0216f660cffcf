"""Asset tiers (资产分层, seed 002) as the budgets read them: the bounds of liquid assets between
tiers, by default ¥1,000,000 and ¥5,000,000, and which tier an amount falls in.

They live here, below the customers feature, because a customer's cost limit may differ per
quadrant × tier and the planner budgets with it; ``crm.services.customers.asset_tiers`` holds
what admins do with them (parse, label, save).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from crm.extensions import db
from crm.models import Customer, Setting

SETTING_KEY = "asset_tier_bounds"
DEFAULT_BOUNDS = (Decimal("1000000.00"), Decimal("5000000.00"))
MAX_TIERS = 6


@dataclass(frozen=True)
class Tier:
    number: int  # 1 for the lowest
    low: Decimal
    high: Decimal | None  # None: no end

    def holds(self, amount: Decimal) -> bool:
        return amount >= self.low and (self.high is None or amount < self.high)


def tiers_from(bounds: tuple[Decimal, ...]) -> list[Tier]:
    edges = (Decimal("0.00"), *bounds)
    return [
        Tier(n + 1, low, edges[n + 1] if n + 1 < len(edges) else None)
        for n, low in enumerate(edges)
    ]


def bounds_from(stored: str | None) -> tuple[Decimal, ...]:
    """The bounds as the setting stores them ("1000000.00,5000000.00"); the defaults if none."""
    if not stored:
        return DEFAULT_BOUNDS
    return tuple(Decimal(v) for v in stored.split(","))


def current_bounds() -> tuple[Decimal, ...]:
    stored = db.session.scalar(sa.select(Setting.value).where(Setting.key == SETTING_KEY))
    return bounds_from(stored)


def current_tiers() -> list[Tier]:
    return tiers_from(current_bounds())


def tier_of(amount: Decimal, tiers: list[Tier]) -> Tier:
    return next(t for t in reversed(tiers) if amount >= t.low)


def tier_number(tiers: list[Tier], assets: sa.ColumnElement | None = None) -> sa.Case:
    """The tier's number of each customer (by ``assets``, else their liquid assets), in SQL."""
    assets = Customer.liquid_assets if assets is None else assets
    money = Customer.liquid_assets.type
    return sa.case(
        *((assets >= sa.literal(t.low, money), t.number) for t in reversed(tiers) if t.number > 1),
        else_=1,
    )
