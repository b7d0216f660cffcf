"""The funnel (转化漏斗): of the opportunities opened in a period, how many reached each stage,
the conversion from one stage to the next, the cycle time from opening to close, and the
sales won with their regular-to-single ratio (期:趸, seed 002) and premium; by staff member,
branch, channel or quadrant.

An opportunity counts as having reached every stage up to the furthest it got to: its stage
while open or won (a won one reached them all), the stage it was lost from when lost. One
grouped statement reads it all; the rest is arithmetic on a few dozen rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from crm.extensions import db
from crm.models import Branch, Customer, Opportunity, Staff
from crm.models.base import CENT
from crm.models.enums import PaymentMode, SalesStage
from crm.services.sales import pipeline, stages

DIMENSIONS = ("owner", "branch", "channel", "quadrant")


@dataclass
class FunnelRow:
    key: object  # the staff or branch id, the channel or the quadrant; None for the total
    name: str | None = None
    reached: dict[SalesStage, int] = field(
        default_factory=lambda: dict.fromkeys(stages.FUNNEL_STAGES, 0)
    )
    lost: int = 0
    won_regular: int = 0
    won_single: int = 0
    premium_regular: Decimal = Decimal("0.00")
    premium_single: Decimal = Decimal("0.00")
    cycle_days: int = 0  # summed over the closed ones
    closed: int = 0

    @property
    def opened(self) -> int:
        return self.reached[SalesStage.LEAD]

    @property
    def won(self) -> int:
        return self.won_regular + self.won_single

    @property
    def premium(self) -> Decimal:
        return self.premium_regular + self.premium_single

    def conversion(self, stage: SalesStage) -> float | None:
        """The share of those that reached the stage before ``stage`` that reached it."""
        i = stages.FUNNEL_STAGES.index(stage)
        before = self.reached[stages.FUNNEL_STAGES[i - 1]] if i else 0
        return self.reached[stage] / before if before else None

    @property
    def cycle_time(self) -> float | None:
        """Mean days from opening to close (won or lost)."""
        return self.cycle_days / self.closed if self.closed else None

    @property
    def ratio(self) -> str:
        """期:趸, the sales won regular against single premium, as the branches quote it."""
        return f"{self.won_regular}:{self.won_single}"


@dataclass
class Funnel:
    dimension: str
    start: date
    end: date
    rows: list[FunnelRow]
    total: FunnelRow


def _days(later, earlier):
    """Days between two date columns, as each database counts them."""
    if db.session.get_bind().dialect.name == "sqlite":
        return sa.func.julianday(later) - sa.func.julianday(earlier)
    return later - earlier


def _furthest():
    """The rank of the furthest stage an opportunity reached."""
    return sa.case(
        (
            Opportunity.stage == SalesStage.LOST,
            sa.case(stages.RANK, value=Opportunity.lost_from, else_=0),
        ),
        else_=sa.case(stages.RANK, value=Opportunity.stage, else_=0),
    )


def _dimension_column(dimension: str):
    return {
        "owner": Opportunity.owner_id,
        "branch": Opportunity.branch_id,
        "channel": Customer.channel,
        "quadrant": Customer.quadrant,
    }[dimension]


def funnel(
    user: Staff, start: date, end: date, dimension: str = "owner", owner_id=None, branch_id=None
) -> Funnel:
    """The funnel of the opportunities ``user`` may see opened from ``start`` to ``end``."""
    if dimension not in DIMENSIONS:
        dimension = "owner"
    owner, branch = pipeline.narrowing(user, owner_id, branch_id)
    key = _dimension_column(dimension).label("key")
    furthest = _furthest().label("furthest")
    closed = Opportunity.closed_on.is_not(None)
    query = (
        sa.select(
            key,
            furthest,
            Opportunity.stage,
            Opportunity.payment_mode,
            sa.func.count().label("n"),
            sa.func.coalesce(sa.func.sum(Opportunity.expected_premium), 0).label("premium"),
            sa.func.coalesce(
                sa.func.sum(sa.case((closed, _days(Opportunity.closed_on, Opportunity.opened_on)))),
                0,
            ).label("days"),
        )
        .where(
            *pipeline.scope_clauses(user, owner, branch),
            Opportunity.opened_on.between(start, end),
        )
        .group_by(key, furthest, Opportunity.stage, Opportunity.payment_mode)
    )
    if dimension in ("channel", "quadrant"):
        query = query.join(Customer, Customer.id == Opportunity.customer_id)
    rows: dict[object, FunnelRow] = {}
    total = FunnelRow(None)
    for r in db.session.execute(query):
        for row in (rows.setdefault(r.key, FunnelRow(r.key)), total):
            _add(row, r)
    names = _names(dimension, [k for k in rows if k is not None])
    for row in rows.values():
        row.name = names.get(row.key)
    ordered = sorted(rows.values(), key=lambda r: (-r.opened, str(r.name or r.key)))
    return Funnel(dimension, start, end, ordered, total)


def _add(row: FunnelRow, r) -> None:
    for stage in stages.FUNNEL_STAGES[: int(r.furthest) + 1]:
        row.reached[stage] += r.n
    if r.stage in (SalesStage.WON, SalesStage.LOST):
        row.closed += r.n
        row.cycle_days += int(r.days)
    if r.stage == SalesStage.LOST:
        row.lost += r.n
    elif r.stage == SalesStage.WON:
        premium = Decimal(r.premium).quantize(CENT)
        if r.payment_mode == PaymentMode.REGULAR:
            row.won_regular += r.n
            row.premium_regular += premium
        else:
            row.won_single += r.n
            row.premium_single += premium


def _names(dimension: str, keys: list) -> dict:
    if dimension == "owner" and keys:
        names = sa.select(Staff.id, Staff.display_name).where(Staff.id.in_(keys))
        return dict(db.session.execute(names).all())
    if dimension == "branch" and keys:
        return dict(
            db.session.execute(sa.select(Branch.id, Branch.name).where(Branch.id.in_(keys))).all()
        )
    return {}
