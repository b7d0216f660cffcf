"""The manager's dashboard (主管看板): how a branch's book moved month by month.

Each figure is one aggregate query over a scope (a branch, or the whole bank) and a period cut
into calendar months of the business's zone. The notebooks compute the same figures from the
frames of ``analytics.load`` (``analytics.quadrants``, ``analytics.budget``,
``analytics.followup``); tests/services/management/test_dashboard_agrees.py holds the two
faces to the same numbers on one simulated history.

Where customers stood "as of" a month is the last quadrant event before the month's end, as
``analytics.quadrants.quadrant_as_of`` reads it. Rather than rank every customer's events once
per month, the query counts what each event changes: +1 (and its liquid assets) for the
quadrant it places the customer in, -1 (and the assets of the event before it) for the one it
takes the customer out of. Summed up to a month's end, these are the as-of figures.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa

from crm.core.clock import business_zone
from crm.extensions import db
from crm.models import Complaint, Customer, Experience, MaturityCallback, QuadrantEvent, Staff
from crm.models.enums import Quadrant, Role
from crm.services.followup import targets
from crm.services.management.period import Month, Period, after_day, day_begins
from crm.services.planning import budget, matrix

QUADRANTS = tuple(Quadrant)
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Scope:
    """Whose customers: one branch's (``branch_id``) or, for an admin, every branch's; a
    manager without a branch sees nobody's."""

    branch_id: int | None
    nobody: bool = False

    def clause(self) -> sa.ColumnElement[bool]:
        if self.nobody:
            return sa.false()
        if self.branch_id is None:
            return sa.true()
        return Customer.branch_id == self.branch_id


def scope_for(user: Staff, branch_id: int | None = None) -> Scope:
    """A manager's branch; an admin's choice of branch (``branch_id``) or every branch."""
    if user.role == Role.ADMIN:
        return Scope(branch_id)
    if user.role == Role.MANAGER and user.branch_id is not None:
        return Scope(user.branch_id)
    return Scope(None, nobody=True)


@dataclass
class BookMonth:
    """One month of the book: where customers stood and their liquid assets as of its last
    day, and the moves between quadrants within it (``moves[from][to]``)."""

    month: Month
    customers: dict[Quadrant, int]
    assets: dict[Quadrant, Decimal]
    moves: dict[Quadrant, dict[Quadrant, int]]

    @property
    def total(self) -> int:
        return sum(self.customers.values())


@dataclass
class BudgetLine:
    """A quadrant's customers, their 12-month limit each, and what they used of it."""

    quadrant: Quadrant
    customers: int
    limit: Decimal
    used: Decimal

    @property
    def budget(self) -> Decimal:
        return self.limit * self.customers

    @property
    def share_used(self) -> Decimal | None:
        if not self.budget:
            return None
        return (self.used * 100 / self.budget).quantize(Decimal("0.1"))


@dataclass
class ComplaintMonth:
    """Complaints opened in a month: how many, answered by their due time (the 7-day SLA),
    answered late, still open."""

    month: Month
    opened: int = 0
    on_time: int = 0
    late: int = 0

    @property
    def still_open(self) -> int:
        return self.opened - self.on_time - self.late

    @property
    def share_on_time(self) -> Decimal | None:
        return targets.ratio(self.on_time, self.on_time + self.late)


@dataclass
class Board:
    scope: Scope
    period: Period
    book: list[BookMonth] = field(default_factory=list)
    budget: list[BudgetLine] = field(default_factory=list)
    followup: list[tuple[Month, targets.Outcome]] = field(default_factory=list)
    complaints: list[ComplaintMonth] = field(default_factory=list)

    @property
    def moves(self) -> dict[Quadrant, dict[Quadrant, int]]:
        """The moves of the whole period, from (rows) × to (columns)."""
        total = _empty_moves()
        for month in self.book:
            for source, row in month.moves.items():
                for target, count in row.items():
                    total[source][target] += count
        return total


def board(scope: Scope, period: Period, *, now: datetime | None = None) -> Board:
    """Every figure of the dashboard for ``scope`` over ``period``."""
    return Board(
        scope,
        period,
        book=book_by_month(scope, period),
        budget=budget_by_quadrant(scope, period.end),
        followup=followup_by_month(scope, period, now=now),
        complaints=complaints_by_month(scope, period),
    )


# --- the book: quadrants, assets, moves -------------------------------------------------------


def _empty_moves() -> dict[Quadrant, dict[Quadrant, int]]:
    return {source: dict.fromkeys(QUADRANTS, 0) for source in QUADRANTS}


def _bucket(column, bounds: list[datetime]) -> sa.Case:
    """0 before the first bound, k between bound k-1 and bound k, ... (past the last: none)."""
    return sa.case(*((column < bound, k) for k, bound in enumerate(bounds)), else_=len(bounds))


def _bounds(period: Period) -> list[datetime]:
    """The period's start, then the end of each of its months."""
    zone = business_zone()
    return [day_begins(period.start, zone), *(after_day(m.last, zone) for m in period.months)]


def book_by_month(scope: Scope, period: Period) -> list[BookMonth]:
    """As of each month of ``period``: customers and liquid assets per quadrant; and the
    moves within each month (first placements are not moves)."""
    bounds = _bounds(period)
    order = (QuadrantEvent.at, QuadrantEvent.id)
    window = {"partition_by": QuadrantEvent.customer_id, "order_by": order}
    assets_type = QuadrantEvent.liquid_assets.type
    events = (
        sa.select(
            _bucket(QuadrantEvent.at, bounds).label("bucket"),
            QuadrantEvent.from_quadrant,
            QuadrantEvent.to_quadrant,
            sa.func.lag(QuadrantEvent.to_quadrant, type_=QuadrantEvent.to_quadrant.type)
            .over(**window)
            .label("left"),
            QuadrantEvent.liquid_assets,
            sa.func.lag(QuadrantEvent.liquid_assets, type_=assets_type)
            .over(**window)
            .label("left_assets"),
        )
        .join(Customer, Customer.id == QuadrantEvent.customer_id)
        .where(scope.clause(), QuadrantEvent.at < bounds[-1])
        .subquery()
    )
    rows = db.session.execute(
        sa.select(
            events.c.bucket,
            events.c.from_quadrant,
            events.c.to_quadrant,
            events.c.left,
            sa.func.count(),
            sa.type_coerce(sa.func.sum(events.c.liquid_assets), assets_type),
            sa.type_coerce(sa.func.sum(events.c.left_assets), assets_type),
        ).group_by(events.c.bucket, events.c.from_quadrant, events.c.to_quadrant, events.c.left)
    ).all()
    per_bucket: dict[int, list] = defaultdict(list)
    for row in rows:
        per_bucket[row[0]].append(row[1:])
    customers = dict.fromkeys(QUADRANTS, 0)
    assets = dict.fromkeys(QUADRANTS, ZERO)
    result = []
    for k in range(len(bounds)):
        moves = _empty_moves()
        for source, target, left, count, placed, taken in per_bucket.get(k, ()):
            customers[target] += count
            assets[target] += placed or ZERO
            if left is not None:
                customers[left] -= count
                assets[left] -= taken or ZERO
            if source is not None and source != target:
                moves[source][target] += count
        if k:  # bucket 0 is everything before the period: only its sums carry on
            result.append(BookMonth(period.months[k - 1], dict(customers), dict(assets), moves))
    return result


# --- budgets ------------------------------------------------------------------------------------


def budget_by_quadrant(scope: Scope, as_of: date) -> list[BudgetLine]:
    """Per quadrant (the customers' current one): customers, the per-customer 12-month limit,
    and what they committed and spent in the 12 months up to ``as_of`` (``budget``)."""
    counts = dict(
        db.session.execute(
            sa.select(Customer.quadrant, sa.func.count())
            .where(scope.clause())
            .group_by(Customer.quadrant)
        ).all()
    )
    money = Experience.planned_cost.type
    used = dict(
        db.session.execute(
            sa.select(
                Customer.quadrant,
                sa.type_coerce(sa.func.sum(budget.committed_cost() + budget.spent_cost()), money),
            )
            .join(Customer, Customer.id == Experience.customer_id)
            .where(scope.clause(), budget.counted(as_of))
            .group_by(Customer.quadrant)
        ).all()
    )
    limits = matrix.cost_limits()
    return [BudgetLine(q, counts.get(q, 0), limits[q], used.get(q) or ZERO) for q in QUADRANTS]


# --- seed 003's measures and the complaint SLA -------------------------------------------------


def followup_by_month(
    scope: Scope, period: Period, *, now: datetime | None = None
) -> list[tuple[Month, targets.Outcome]]:
    """Seed 003's figures month by month, counted by the follow-up page's own rules
    (``targets``): maturities by their month, complaints by the month they were answered."""
    months = period.months
    zone = business_zone()
    by_maturity = _bucket(MaturityCallback.maturity_date, [m.first for m in months[1:]])
    by_answer = _bucket(Complaint.answered_at, [after_day(m.last, zone) for m in months])
    rows = targets.outcomes_keyed(
        scope.clause(), period.start, period.end, by_maturity, by_answer, now=now
    )
    return [(m, rows.get(k) or targets.Outcome(k, m.key)) for k, m in enumerate(months)]


def complaints_by_month(scope: Scope, period: Period) -> list[ComplaintMonth]:
    """Complaints opened each month: answered by their due time, late, still open."""
    bounds = _bounds(period)
    bucket = _bucket(Complaint.opened_at, bounds).label("bucket")
    answered = Complaint.answered_at.is_not(None)
    rows = db.session.execute(
        sa.select(
            bucket,
            sa.func.count(),
            _count_if(answered, Complaint.answered_at <= Complaint.due_at),
            _count_if(answered, Complaint.answered_at > Complaint.due_at),
        )
        .join(Customer, Customer.id == Complaint.customer_id)
        .where(scope.clause(), Complaint.opened_at >= bounds[0], Complaint.opened_at < bounds[-1])
        .group_by(bucket)
    ).all()
    found = {k: (opened, on_time or 0, late or 0) for k, opened, on_time, late in rows}
    return [
        ComplaintMonth(month, *found.get(k + 1, (0, 0, 0))) for k, month in enumerate(period.months)
    ]


def _count_if(*conditions):
    return sa.func.sum(sa.case((sa.and_(*conditions), 1), else_=0))
