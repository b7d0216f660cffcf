"""The customer list's orders (排序): which columns it sorts by, and its cursors.

Each order is a column, then the id, both the same way, so that the next page is one row
comparison on an index: ``(value, id) < (:value, :id)``. A cursor in a URL is the last row's
id and value (``123:zhangsan``); one that does not parse is no cursor (the first page).

The days of last contact and next planned experience may be none (never contacted, nothing
planned): those customers come after the others whichever way the list sorts, by id, and
a cursor among them carries ``-`` for the value (``123:-``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa

from crm.core.inputs import as_id
from crm.models import Customer


def _money(text: str) -> Decimal | None:
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and 0 <= amount < 10**16 else None


def _score(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) <= 3 else None


class _None:
    """A cursor's value among the rows that have none (``123:-``)."""

    def __repr__(self) -> str:
        return "NONE"


NONE = _None()


def _day(text: str) -> date | _None | None:
    if text == "-":
        return NONE
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Sort:
    """An order of the list: a column, then the id (so that equal values page in a stable
    order); both the same way, so that one row comparison on an index gives the next page."""

    column: sa.orm.InstrumentedAttribute
    descending: bool
    read: Callable[[str], object]  # a cursor's value as typed in a URL, or None
    nullable: bool = False  # rows without a value come last, by id (``NONE`` in a cursor)

    def key_of(self, row: object) -> object:
        """The sorted value of a listed row (which carries the column under its name)."""
        value = getattr(row, self.column.key)
        return "-" if value is None and self.nullable else value


SORTS = {
    "name": Sort(Customer.name_pinyin, False, lambda text: text[:200]),
    "assets": Sort(Customer.liquid_assets, True, _money),
    "willingness": Sort(Customer.willingness, True, _score),
    "contact_recent": Sort(Customer.last_contact_on, True, _day, nullable=True),
    "contact_oldest": Sort(Customer.last_contact_on, False, _day, nullable=True),
    "planned_soonest": Sort(Customer.next_planned_on, False, _day, nullable=True),
    "planned_latest": Sort(Customer.next_planned_on, True, _day, nullable=True),
}


def cursor_of(sort: str, row) -> int | str:
    """Where a page ends, for the next one's URL: the id, or the sort's value and the id."""
    by = SORTS.get(sort)
    return row.id if by is None else f"{row.id}:{by.key_of(row)}"


def read_cursor(sort: str, text: object) -> tuple[int, object] | None:
    """A cursor from a URL, as (id, sort value); None for one that does not parse (an edited
    URL, a sort changed since): the list then starts at its first page."""
    if text is None or text == "":
        return None
    by = SORTS.get(sort)
    if by is None:
        cursor = as_id(text)
        return None if cursor is None else (cursor, None)
    raw_id, colon, raw_value = str(text).partition(":")
    cursor, value = as_id(raw_id), by.read(raw_value)
    return None if not colon or cursor is None or value is None else (cursor, value)


def nullable_page(
    listed: sa.Select,
    by: Sort,
    ascending: bool,
    newer: bool,
    cursor: bool,
    among_none: bool,
    limit: sa.BindParameter,
) -> sa.Select:
    """A page of a sort whose value may be none (``listed``: the page's columns and
    conditions, the cursor's aside). The list is the rows with a value by (value, id), then
    the rest by id; this statement walks it from the cursor (``among_none``: the cursor is
    in the rest) forwards, or back towards its start when ``newer``. Each part is its own
    short range read of the sort's index, ``limit`` rows at most, and the two are joined."""
    column, key = by.column, Customer.id

    def walked(*keys: sa.ColumnElement) -> list[sa.ColumnElement]:
        return [k.asc() if ascending else k.desc() for k in keys]

    def past(keys: sa.ColumnElement, mark: sa.ColumnElement) -> sa.ColumnElement[bool]:
        return keys > mark if ascending else keys < mark

    # "Not none" bounds the range on the side of the rows without a value (SQLite keeps
    # them first in an index, PostgreSQL last), the row comparison on the cursor's side.
    valued = listed.where(column.is_not(None)).order_by(*walked(column, key))
    # The rest are ordered by (value, id) too, though every value is none: PostgreSQL does
    # not take "IS NULL" for an equality when it matches an order to an index, so by id
    # alone a generic plan (a statement prepared by the driver) walks the scope's whole
    # (scope, id) index instead, filtering: 100,000 rows for a branch where all have one.
    none = listed.where(column.is_(None)).order_by(*walked(column, key))
    mark = sa.bindparam("cursor")
    if cursor and among_none:
        none = none.where(past(key, mark))
    elif cursor:
        value = sa.bindparam("cursor_value", type_=column.type)
        valued = valued.where(past(sa.tuple_(column, key), sa.tuple_(value, mark)))
    # The parts in the order the walk meets them, from the cursor's own.
    parts = [none, valued] if newer else [valued, none]
    if cursor:
        parts = parts[parts.index(none if among_none else valued) :]
    if len(parts) == 1:
        return parts[0].limit(limit)
    # Each part keeps its order and limit inside a subquery (SQLite allows no LIMIT on a
    # part of a UNION otherwise); the few rows are then put in the walk's order.
    joined = sa.union_all(*(sa.select(p.limit(limit).subquery()) for p in parts)).subquery()
    valued_first = joined.c[column.key].is_(None)
    return (
        sa.select(*joined.c)
        .order_by(
            valued_first.desc() if newer else valued_first.asc(),
            *walked(joined.c[column.key], joined.c.id),
        )
        .limit(limit)
    )
