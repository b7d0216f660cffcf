"""Per-customer cost limits (成本控制): what a customer's experiences may cost in a rolling
12 months, and what is already committed and spent.

Committed is the planned cost of experiences still planned; spent is the actual cost of
those held (or missed, where a seat was paid for). Together they may not pass the customer's
limit: their quadrant × asset tier's where an admin set one, else their quadrant's. The
planner and the staff forms use the same figures from here.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from crm.core import reads
from crm.core.clock import local_today
from crm.models import Customer, Experience
from crm.models.enums import ExperienceStatus, Quadrant
from crm.services.planning import matrix, tiers

WINDOW = timedelta(days=365)
ZERO = Decimal("0.00")


def window_start(today: date) -> date:
    """Experiences on or before this date no longer count against the budget."""
    return today - WINDOW


def counted(today: date) -> sa.ColumnElement[bool]:
    """The experiences that count against a budget on ``today``."""
    return _counted_after(window_start(today))


def _counted_after(start) -> sa.ColumnElement[bool]:
    return sa.and_(
        Experience.status != ExperienceStatus.CANCELLED,
        sa.func.coalesce(Experience.held_on, Experience.due_on) > start,
    )


def committed_cost() -> sa.ColumnElement:
    return sa.case(
        (Experience.status == ExperienceStatus.PLANNED, Experience.planned_cost),
        else_=sa.literal(0, Experience.planned_cost.type),
    )


def spent_cost() -> sa.ColumnElement:
    return sa.case(
        (
            Experience.status != ExperienceStatus.PLANNED,
            sa.func.coalesce(Experience.actual_cost, sa.literal(0, Experience.actual_cost.type)),
        ),
        else_=sa.literal(0, Experience.actual_cost.type),
    )


def usage_by_customer(today: date) -> sa.Select:
    """customer_id, used (committed + spent) per customer: the planner joins this."""
    return (
        sa.select(
            Experience.customer_id,
            # type_coerce keeps the sum in the Money type (integer fen on SQLite).
            sa.type_coerce(
                sa.func.sum(committed_cost() + spent_cost()), Experience.planned_cost.type
            ).label("used"),
        )
        .where(counted(today))
        .group_by(Experience.customer_id)
    )


@functools.cache
def _used_by_statement() -> sa.Select:
    return (
        sa.select(
            Experience.customer_id,
            sa.type_coerce(
                sa.func.sum(committed_cost() + spent_cost()), Experience.planned_cost.type
            ),
        )
        .where(
            Experience.customer_id.in_(sa.bindparam("ids", expanding=True)),
            _counted_after(sa.bindparam("start", type_=sa.Date)),
        )
        .group_by(Experience.customer_id)
    )


def used_by(ids: list[int], today: date) -> dict[int, Decimal]:
    """Committed + spent per customer of ``ids`` (a page's few; absent: nothing used)."""
    return dict(reads.rows(_used_by_statement(), ids=ids, start=window_start(today)))


@dataclass(frozen=True)
class Budget:
    limit: Decimal
    committed: Decimal
    spent: Decimal

    @property
    def used(self) -> Decimal:
        return self.committed + self.spent

    @property
    def remaining(self) -> Decimal:
        return self.limit - self.used

    def excess(self, cost: Decimal) -> Decimal:
        """By how much adding ``cost`` would pass the limit (zero: it fits)."""
        return max(self.used + cost - self.limit, ZERO)


# The settings a customer's limit may come from: the asset tier bounds, the quadrant's limit
# and its limit per tier (``matrix.CostLimits``).
_LIMIT_PARAMS = (
    "bounds_key",
    "limit_key",
    *(f"tier_key_{n}" for n in range(1, tiers.MAX_TIERS + 1)),
)


@functools.cache
def _budget_statement() -> sa.Select:
    # The settings of the customer's limit ride along: one statement, not two.
    return sa.select(
        sa.func.sum(committed_cost()),
        sa.func.sum(spent_cost()),
        *(matrix.stored_limit(sa.bindparam(name)) for name in _LIMIT_PARAMS),
    ).where(
        Experience.customer_id == sa.bindparam("customer_id"),
        _counted_after(sa.bindparam("start", type_=sa.Date)),
    )


def budget_for(customer: Customer, today: date | None = None) -> Budget:
    """``customer``: anything with its ``id``, ``quadrant`` and ``liquid_assets`` (a dossier
    page's row too). The limit is ``matrix.CostLimits.of``, as everywhere."""
    today = today or local_today()
    quadrant = Quadrant(customer.quadrant)
    keys = {
        "bounds_key": tiers.SETTING_KEY,
        "limit_key": matrix.limit_key(quadrant),
        **{
            f"tier_key_{n}": matrix.tier_limit_key(quadrant, n)
            for n in range(1, tiers.MAX_TIERS + 1)
        },
    }
    committed, spent, *stored = reads.first(
        _budget_statement(), customer_id=customer.id, start=window_start(today), **keys
    )
    limits = matrix.limits_from(
        {keys[name]: value for name, value in zip(_LIMIT_PARAMS, stored, strict=True)}
    )
    return Budget(
        limit=limits.of(quadrant, customer.liquid_assets),
        committed=committed if committed is not None else ZERO,
        spent=spent if spent is not None else ZERO,
    )
