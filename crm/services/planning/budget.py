"""Per-customer cost limits (成本控制): what a customer's experiences may cost in a rolling
12 months, and what is already committed and spent.

Committed is the planned cost of experiences still planned; spent is the actual cost of
those held (or missed, where a seat was paid for). Together they may not pass the limit of
the customer's quadrant. The planner and the staff forms use the same figures from here.
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
from crm.models.enums import ExperienceStatus
from crm.services.planning import matrix

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


@functools.cache
def _budget_statement() -> sa.Select:
    # The quadrant's stored limit rides along: one statement, not two.
    return sa.select(
        sa.func.sum(committed_cost()),
        sa.func.sum(spent_cost()),
        matrix.stored_limit(sa.bindparam("limit_key")),
    ).where(
        Experience.customer_id == sa.bindparam("customer_id"),
        _counted_after(sa.bindparam("start", type_=sa.Date)),
    )


def budget_for(customer: Customer, today: date | None = None) -> Budget:
    """``customer``: anything with its ``id`` and ``quadrant`` (a dossier page's row too)."""
    today = today or local_today()
    committed, spent, stored = reads.first(
        _budget_statement(),
        customer_id=customer.id,
        start=window_start(today),
        limit_key=matrix.limit_key(customer.quadrant),
    )
    return Budget(
        limit=matrix.cost_limit(customer.quadrant, stored),
        committed=committed if committed is not None else ZERO,
        spent=spent if spent is not None else ZERO,
    )
