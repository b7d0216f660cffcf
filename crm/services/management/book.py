"""The book's quadrant events grouped by month: the one query behind the dashboard's as-of
figures, live (``crm.services.management.dashboard``) and stored
(``crm.services.management.book_store``).

Rather than rank every customer's events once per month, each event counts what it changes:
+1 (and its liquid assets) for the quadrant it places the customer in, -1 (and the assets of
the event before it) for the one it takes the customer out of. Summed up to a month's end,
these are the as-of figures; grouped by month, bucket, the quadrants moved from and to and the
one left, they are a few dozen rows a month that add up the same whether read from the events
or from the stored months.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa

from crm.models import Customer, QuadrantEvent
from crm.models.enums import Quadrant
from crm.services.management.period import Month

QUADRANTS = tuple(Quadrant)
ZERO = Decimal("0.00")

# One group: bucket, from quadrant, to quadrant, quadrant left, events, assets placed, taken.
Group = tuple[int, Quadrant | None, Quadrant, Quadrant | None, int, Decimal | None, Decimal | None]
# A stretch of time [from, to) whose events are read live.
Window = tuple[datetime, datetime]


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


def empty_moves() -> dict[Quadrant, dict[Quadrant, int]]:
    return {source: dict.fromkeys(QUADRANTS, 0) for source in QUADRANTS}


def bucket(column, bounds: Sequence[datetime]) -> sa.Case:
    """0 before the first bound, k between bound k-1 and bound k, ... (past the last: none)."""
    return sa.case(*((column < bound, k) for k, bound in enumerate(bounds)), else_=len(bounds))


def _within(column, windows: Iterable[Window]) -> sa.ColumnElement[bool]:
    return sa.or_(*(sa.and_(column >= start, column < end) for start, end in windows))


def grouped(
    scope: sa.ColumnElement[bool],
    bounds: Sequence[datetime],
    *,
    label: sa.ColumnElement | None = None,
    keys: Sequence[sa.ColumnElement] = (),
    windows: Sequence[Window] | None = None,
) -> sa.Select:
    """The events of ``scope``'s customers before the last bound, grouped by ``keys``, their
    label (by default, their bucket among ``bounds``), the quadrants moved from and to and the
    quadrant left (``Group`` rows after the keys).

    With ``windows``, only the events dated within them, each still knowing the event before
    it: the window function then reads only the customers with an event in them, by
    ``ix_quadrant_event_at_customer_id``, instead of every customer of the scope."""
    order = (QuadrantEvent.at, QuadrantEvent.id)
    window = {"partition_by": QuadrantEvent.customer_id, "order_by": order}
    assets_type = QuadrantEvent.liquid_assets.type
    label = bucket(QuadrantEvent.at, bounds) if label is None else label
    inner = (
        sa.select(
            *keys,
            label.label("bucket"),
            QuadrantEvent.at,
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
        .where(scope, QuadrantEvent.at < bounds[-1])
    )
    if windows is not None:
        # The scope's own movers: the window's events of the whole bank are read by date and
        # each checked against its customer, but only the scope's have their history read
        # (a branch's dashboard once read the history of every mover of the bank).
        # Its own tables, not the enclosing query's (correlate(None)): in SQL the innermost
        # FROM names them.
        movers = (
            sa.select(QuadrantEvent.customer_id)
            .join(Customer, Customer.id == QuadrantEvent.customer_id)
            .where(scope, _within(QuadrantEvent.at, windows))
            .correlate(None)
        )
        inner = inner.where(QuadrantEvent.customer_id.in_(movers))
    events = inner.subquery()
    outer_keys = [events.c[k.key] for k in keys]
    query = sa.select(
        *outer_keys,
        events.c.bucket,
        events.c.from_quadrant,
        events.c.to_quadrant,
        events.c.left,
        sa.func.count().label("events"),
        sa.type_coerce(sa.func.sum(events.c.liquid_assets), assets_type).label("placed"),
        sa.type_coerce(sa.func.sum(events.c.left_assets), assets_type).label("taken"),
    ).group_by(
        *outer_keys, events.c.bucket, events.c.from_quadrant, events.c.to_quadrant, events.c.left
    )
    if windows is not None:
        query = query.where(_within(events.c.at, windows))
    return query


def tally(groups: Iterable[Group], months: Sequence[Month]) -> list[BookMonth]:
    """The book month by month from groups bucketed by ``months`` (bucket 0: before the
    first; only its sums carry on)."""
    per_bucket: dict[int, list] = {}
    for row in groups:
        per_bucket.setdefault(row[0], []).append(row[1:])
    customers = dict.fromkeys(QUADRANTS, 0)
    assets = dict.fromkeys(QUADRANTS, ZERO)
    result = []
    for k in range(len(months) + 1):
        moves = empty_moves()
        for source, target, left, count, placed, taken in per_bucket.get(k, ()):
            customers[target] += count
            assets[target] += placed or ZERO
            if left is not None:
                customers[left] -= count
                assets[left] -= taken or ZERO
            if source is not None and source != target:
                moves[source][target] += count
        if k:
            result.append(BookMonth(months[k - 1], dict(customers), dict(assets), moves))
    return result
