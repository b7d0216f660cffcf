"""The manager's dashboard (主管看板): how a branch's book moved month by month.

Each figure is one aggregate query over a scope (a branch, or the whole bank) and a period cut
into calendar months of the business's zone. The notebooks compute the same figures from the
frames of ``analytics.load`` (``analytics.quadrants``, ``analytics.budget``,
``analytics.followup``); tests/services/management/test_dashboard_agrees.py holds the two
faces to the same numbers on one simulated history.

Where customers stood "as of" a month is the last quadrant event before the month's end, as
``analytics.quadrants.quadrant_as_of`` reads it, counted event by event
(``crm.services.management.book``). Months the nightly job has stored
(``crm.services.management.book_store``) are read from ``dashboard_month``; the events since,
and any month changed since, are read live: the two always add up to the live figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa

from crm.core.clock import business_zone
from crm.extensions import db
from crm.models import Complaint, Customer, Experience, MaturityCallback, Staff
from crm.models.enums import Quadrant, Role
from crm.services.followup import targets
from crm.services.management import book, book_store
from crm.services.management.book import QUADRANTS, ZERO, BookMonth
from crm.services.management.period import Month, Period, after_day, day_begins
from crm.services.planning import budget, matrix


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

_empty_moves = book.empty_moves
_bucket = book.bucket  # the other figures cut their periods into months the same way


def _bounds(period: Period) -> list[datetime]:
    """The period's start, then the end of each of its months."""
    zone = business_zone()
    return [day_begins(period.start, zone), *(after_day(m.last, zone) for m in period.months)]


def book_by_month(scope: Scope, period: Period) -> list[BookMonth]:
    """As of each month of ``period``: customers and liquid assets per quadrant; and the
    moves within each month (first placements are not moves). Months the nightly job stored
    (``book_store``) are read from ``dashboard_month``; only the rest are read from the
    events."""
    bounds = _bounds(period)
    if scope.nobody:
        return book.tally((), period.months)
    groups, windows = book_store.stored_groups(scope.clause(), scope.branch_id, bounds)
    if windows != []:
        live = db.session.execute(book.grouped(scope.clause(), bounds, windows=windows))
        groups.extend(tuple(row) for row in live)
    return book.tally(groups, period.months)


def live_book(scope: Scope, period: Period) -> list[BookMonth]:
    """The same figures from every event of the scope, none stored: what the stored months
    must always add up to."""
    bounds = _bounds(period)
    rows = db.session.execute(book.grouped(scope.clause(), bounds)).all()
    return book.tally([tuple(row) for row in rows], period.months)


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
