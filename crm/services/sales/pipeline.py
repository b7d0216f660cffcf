"""The pipeline board (销售漏斗看板): the open opportunities of a staff member, a branch or the
bank, by stage, with each stage's count, premium and weighted premium (premium × the stage's
probability), and the cards most due to close first.

Read as rows, in two statements whatever the size of the bank: one aggregate per stage and
one ranked pick of the first cards per stage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa

from crm.core import access
from crm.core.inputs import as_id
from crm.extensions import db
from crm.models import Customer, Opportunity, Product, Staff
from crm.models.base import CENT
from crm.models.enums import OPEN_STAGES, Role, SalesStage
from crm.services.sales import stages

CARDS_PER_STAGE = 25


@dataclass
class Column:
    stage: SalesStage
    probability: int
    count: int = 0
    premium: Decimal = Decimal("0.00")
    cards: list[sa.Row] = field(default_factory=list)

    @property
    def weighted(self) -> Decimal:
        return (self.premium * self.probability / 100).quantize(CENT)


@dataclass
class Board:
    columns: list[Column]
    owner_id: int | None  # the staff member shown, when one is
    branch_id: int | None  # the branch shown, when one is

    @property
    def count(self) -> int:
        return sum(c.count for c in self.columns)

    @property
    def premium(self) -> Decimal:
        return sum((c.premium for c in self.columns), Decimal("0.00"))

    @property
    def weighted(self) -> Decimal:
        return sum((c.weighted for c in self.columns), Decimal("0.00"))


def narrowing(user: Staff, owner_id=None, branch_id=None) -> tuple[int | None, int | None]:
    """The seller and branch a user asked to see, as far as they may: staff see their own;
    a manager their branch, or one of its staff; an admin anyone."""
    owner, branch = as_id(owner_id) if owner_id else None, as_id(branch_id) if branch_id else None
    if user.role == Role.STAFF:
        return user.id, None
    if user.role == Role.MANAGER:
        return owner, user.branch_id if user.branch_id is not None else 0
    return owner, branch


def scope_clauses(user: Staff, owner_id: int | None, branch_id: int | None) -> list:
    """The WHERE clauses of the opportunities a board or funnel of ``user`` reads: by their
    seller and the branch credited (``narrowing`` has already kept them to the user's reach)."""
    clauses = []
    if owner_id is not None:
        clauses.append(Opportunity.owner_id == owner_id)
    if branch_id is not None:
        clauses.append(Opportunity.branch_id == branch_id)
    return clauses


def board(user: Staff, owner_id=None, branch_id=None) -> Board:
    """The open opportunities ``user`` may see, narrowed to a seller or a branch."""
    owner, branch = narrowing(user, owner_id, branch_id)
    where = scope_clauses(user, owner, branch)
    chances = stages.probabilities()
    columns = {s: Column(s, chances[s]) for s in OPEN_STAGES}
    totals = (
        sa.select(
            Opportunity.stage,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(Opportunity.expected_premium), 0),
        )
        .where(*where, Opportunity.stage.in_(OPEN_STAGES))
        .group_by(Opportunity.stage)
    )
    for stage, count, premium in db.session.execute(totals):
        columns[stage].count = count
        columns[stage].premium = Decimal(premium).quantize(CENT)
    for card in first_cards(where):
        columns[card.stage].cards.append(card)
    return Board(list(columns.values()), owner, branch)


def first_cards(where: Sequence) -> Sequence[sa.Row]:
    """The first ``CARDS_PER_STAGE`` cards of each stage, soonest to close first: one ranged
    read of the index per stage (UNION ALL), then their customers' and products' names."""
    picks = [
        sa.select(Opportunity.id)
        .where(*where, Opportunity.stage == stage)
        .order_by(Opportunity.expected_close_on, Opportunity.id)
        .limit(CARDS_PER_STAGE)
        .subquery()
        .select()
        for stage in OPEN_STAGES
    ]
    chosen = sa.union_all(*picks).subquery()
    query = (
        sa.select(
            Opportunity.id,
            Opportunity.stage,
            Opportunity.customer_id,
            Opportunity.expected_premium,
            Opportunity.payment_mode,
            Opportunity.expected_close_on,
            Opportunity.version,
            Customer.name.label("customer_name"),
            Product.name.label("product_name"),
            Product.risk_level,
        )
        .join(chosen, chosen.c.id == Opportunity.id)
        .join(Customer, Customer.id == Opportunity.customer_id)
        .join(Product, Product.id == Opportunity.product_id)
        .order_by(Opportunity.stage, Opportunity.expected_close_on, Opportunity.id)
    )
    return db.session.execute(query).all()


def opportunities_of(
    user: Staff, state: str = "open", customer_id: int | None = None, limit: int = 200
) -> Sequence[sa.Row]:
    """Opportunities ``user`` may see, open, won or lost, those closing soonest (or closed
    latest) first; one customer's with ``customer_id``."""
    closed = {"won": [SalesStage.WON], "lost": [SalesStage.LOST]}
    wanted = closed.get(state, OPEN_STAGES if state == "open" else list(SalesStage))
    query = (
        sa.select(
            Opportunity.id,
            Opportunity.stage,
            Opportunity.customer_id,
            Opportunity.expected_premium,
            Opportunity.payment_mode,
            Opportunity.expected_close_on,
            Opportunity.opened_on,
            Opportunity.closed_on,
            Opportunity.lost_reason,
            Opportunity.version,
            Customer.name.label("customer_name"),
            Product.name.label("product_name"),
            Product.risk_level,
        )
        .join(Customer, Customer.id == Opportunity.customer_id)
        .join(Product, Product.id == Opportunity.product_id)
        .where(access.customer_scope(user), Opportunity.stage.in_(wanted))
    )
    if customer_id is not None:
        query = query.where(Opportunity.customer_id == customer_id)
    if state in closed:
        query = query.order_by(Opportunity.closed_on.desc(), Opportunity.id.desc())
    else:
        query = query.order_by(Opportunity.expected_close_on, Opportunity.id)
    return db.session.execute(query.limit(limit)).all()
