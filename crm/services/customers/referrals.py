"""Referrals (链式反应, seed 004): who referred whom, the chain, and what a referral is worth.

A referral given raises the referrer's willingness by the configured delta (and may move
their quadrant, with the referral as the cause). A referral that would close a loop (A
referred B referred A) is refused.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app

from crm.core import access, reads
from crm.extensions import db
from crm.models import Customer, Staff
from crm.models.enums import MoveCause
from crm.services.customers import willingness

# A chain is shown this many steps up and down the dossier; a longer one says there is more.
SHOWN_DEPTH = 10


@functools.cache
def _referrer_statement() -> sa.Select:
    return sa.select(Customer.referred_by_id).where(Customer.id == sa.bindparam("id"))


def referrers_of(customer_id: int) -> list[int]:
    """The ids up the chain from ``customer_id``: its referrer, theirs, and so on."""
    chain: list[int] = []
    seen = {customer_id}
    current = reads.scalar(_referrer_statement(), id=customer_id)
    while current is not None and current not in seen:
        chain.append(current)
        seen.add(current)
        current = reads.scalar(_referrer_statement(), id=current)
    return chain


def would_cycle(customer_id: int | None, referrer_id: int) -> bool:
    """Naming ``referrer_id`` as the referrer of ``customer_id`` would make a loop."""
    if customer_id is None:
        return False  # a new dossier has no one below it yet
    return referrer_id == customer_id or customer_id in referrers_of(referrer_id)


def credit_referrer(user: Staff, referrer_id: int, referred: Customer) -> bool:
    """The referral is given: raise the referrer's willingness; the caller commits."""
    referrer = db.session.get(Customer, referrer_id)
    if referrer is None:
        return False
    return willingness.nudge(
        user,
        referrer,
        int(current_app.config["CRM_REFERRAL_DELTA"]),
        MoveCause.REFERRAL,
        f"referral of customer #{referred.id}",
    )


@dataclass
class Link:
    # ``id``, ``name``, ``owner_id``, ``branch_id``; None: a customer the reader may not see.
    customer: sa.Row | None
    depth: int


@dataclass
class Chain:
    up: list[Link] = field(default_factory=list)  # nearest referrer first
    down: list[Link] = field(default_factory=list)  # breadth first
    more_below: bool = False


@functools.cache
def _linked_statement(by: str) -> sa.Select:
    """The customers of a chain whose ``by`` column is among ``ids``: what a link shows and
    what deciding whether the reader may see it takes."""
    return (
        sa.select(Customer.id, Customer.name, Customer.owner_id, Customer.branch_id)
        .where(getattr(Customer, by).in_(sa.bindparam("ids", expanding=True)))
        .order_by(Customer.id)
        .limit(200)
    )


def chain(user: Staff, customer: Customer, *, below: bool = True) -> Chain:
    """The referral chain around a dossier: up to the first referrer, and down the customers
    it brought (and theirs). Customers outside the reader's scope appear without a name.
    ``below=False``: the caller knows the customer brought no one in (no query downwards)."""
    result = Chain()

    def visible(c: sa.Row) -> sa.Row | None:
        return c if access.can_see_customer(user, c) else None

    # The dossier's own referrer is at hand; most customers have none, and cost no query.
    up = []
    if customer.referred_by_id is not None:
        up = [customer.referred_by_id, *referrers_of(customer.referred_by_id)]
        up = up[: up.index(customer.id)] if customer.id in up else up
    up = up[:SHOWN_DEPTH]
    if up:
        found = {c.id: c for c in reads.rows(_linked_statement("id"), ids=up)}
        result.up = [Link(visible(found[i]), depth) for depth, i in enumerate(up, start=1)]
    level, depth, seen = ([customer.id] if below else []), 0, {customer.id}
    while level and depth < SHOWN_DEPTH:
        depth += 1
        below = reads.rows(_linked_statement("referred_by_id"), ids=level)
        below = [c for c in below if c.id not in seen]
        seen.update(c.id for c in below)
        result.down.extend(Link(visible(c), depth) for c in below)
        level = [c.id for c in below]
    result.more_below = bool(level)
    return result
