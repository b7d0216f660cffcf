"""The quadrant grid (分层) a manager reads: customers, assets and recent moves per cell."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from crm.core.access import customer_scope
from crm.extensions import db
from crm.models import Customer, QuadrantEvent, Staff
from crm.models.base import utcnow
from crm.models.enums import Channel, Quadrant
from crm.services.customers import asset_tiers

RECENT_DAYS = 30


@dataclass
class Cell:
    quadrant: Quadrant
    customers: int = 0
    liquid_assets: Decimal = Decimal("0.00")
    moved_in: int = 0
    moved_out: int = 0
    # Customers per asset tier (资产分层), by the tier's number.
    tiers: dict[int, int] = field(default_factory=dict)


def _scope(
    user: Staff, branch: int | None, owner: int | None, channel: Channel | None = None
) -> sa.ColumnElement[bool]:
    clauses = [customer_scope(user)]
    if branch is not None:
        clauses.append(Customer.branch_id == branch)
    if owner is not None:
        clauses.append(Customer.owner_id == owner)
    if channel is not None:
        clauses.append(Customer.channel == channel)
    return sa.and_(*clauses)


def grid(
    user: Staff,
    branch: int | None = None,
    owner: int | None = None,
    now: datetime | None = None,
    channel: Channel | None = None,
) -> dict[Quadrant, Cell]:
    """Counts and total liquid assets per quadrant, and moves in and out over the last
    30 days, for the customers ``user`` may see (narrowed by branch, owner and channel)."""
    scope = _scope(user, branch, owner, channel)
    cells = {q: Cell(q) for q in Quadrant}
    totals = db.session.execute(
        sa.select(Customer.quadrant, sa.func.count(), sa.func.sum(Customer.liquid_assets))
        .where(scope)
        .group_by(Customer.quadrant)
    )
    for quadrant, count, assets in totals:
        # SUM keeps the Money type, so this is exact Decimal yuan on both databases.
        cells[Quadrant(quadrant)].customers = count
        cells[Quadrant(quadrant)].liquid_assets = assets or Decimal("0.00")
    tiers = asset_tiers.current_tiers()
    for cell in cells.values():
        cell.tiers = {t.number: 0 for t in tiers}
    tier = asset_tiers.tier_number(tiers)
    split = (
        sa.select(Customer.quadrant, tier, sa.func.count())
        .where(scope)
        .group_by(Customer.quadrant, tier)
    )
    for quadrant, number, count in db.session.execute(split):
        cells[Quadrant(quadrant)].tiers[number] = count
    since = (now or utcnow()) - timedelta(days=RECENT_DAYS)
    moves = (
        sa.select(QuadrantEvent.from_quadrant, QuadrantEvent.to_quadrant, sa.func.count())
        .join(Customer, Customer.id == QuadrantEvent.customer_id)
        .where(scope, QuadrantEvent.at >= since, QuadrantEvent.from_quadrant.is_not(None))
        .group_by(QuadrantEvent.from_quadrant, QuadrantEvent.to_quadrant)
    )
    for source, target, count in db.session.execute(moves):
        if source == target:
            continue
        cells[Quadrant(source)].moved_out += count
        cells[Quadrant(target)].moved_in += count
    return cells


@dataclass
class ChannelRow:
    """Customers of one acquisition channel (None: not recorded) in each quadrant."""

    channel: Channel | None
    cells: dict[Quadrant, int]

    @property
    def total(self) -> int:
        return sum(self.cells.values())


def channel_split(
    user: Staff,
    branch: int | None = None,
    owner: int | None = None,
    channel: Channel | None = None,
) -> list[ChannelRow]:
    """Customers per acquisition channel and quadrant (客户获取 × 分层), largest channel first."""
    counts = db.session.execute(
        sa.select(Customer.channel, Customer.quadrant, sa.func.count())
        .where(_scope(user, branch, owner, channel))
        .group_by(Customer.channel, Customer.quadrant)
    )
    rows: dict[Channel | None, ChannelRow] = {}
    for key, quadrant, count in counts:
        key = Channel(key) if key is not None else None
        row = rows.setdefault(key, ChannelRow(key, {q: 0 for q in Quadrant}))
        row.cells[Quadrant(quadrant)] = count
    order = list(Channel)
    return sorted(
        rows.values(),
        key=lambda r: (-r.total, order.index(r.channel) if r.channel else len(order)),
    )
