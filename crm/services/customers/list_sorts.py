"""The customer list's orders (排序): which columns it sorts by, and its cursors.

Each order is a column, then the id, both the same way, so that the next page is one row
comparison on an index: ``(value, id) < (:value, :id)``. A cursor in a URL is the last row's
id and value (``123:zhangsan``); one that does not parse is no cursor (the first page).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Sort:
    """An order of the list: a column, then the id (so that equal values page in a stable
    order); both the same way, so that one row comparison on an index gives the next page."""

    column: sa.orm.InstrumentedAttribute
    descending: bool
    read: Callable[[str], object]  # a cursor's value as typed in a URL, or None

    def key_of(self, row: object) -> object:
        """The sorted value of a listed row (which carries the column under its name)."""
        return getattr(row, self.column.key)


SORTS = {
    "name": Sort(Customer.name_pinyin, False, lambda text: text[:200]),
    "assets": Sort(Customer.liquid_assets, True, _money),
    "willingness": Sort(Customer.willingness, True, _score),
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
