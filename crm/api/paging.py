"""Cursor pagination: pages walk the primary key upwards, so page 2,000 costs what page 1
costs (keyset, never OFFSET), and rows added during a walk are met at its end.

A cursor is opaque to clients: base64 of the last id a page held. The description gives its
exact form as a pattern, so that a client (or schemathesis) can tell a cursor from a typo.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from marshmallow import validate

from crm.api import fields
from crm.core.inputs import MAX_ID
from crm.extensions import db

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

# Every cursor the API gives out, and nothing else: unpadded URL-safe base64 of "id:" and 1 to
# 10 digits. "id:" is aWQ6; then every three digits are four characters, and a last one or
# two digits are two or three. A digit's byte is 0011 and four bits, so few characters occur:
# a group's first is M, N or O (digits 0-3, 4-7, 8-9), and so on (tests/api/test_description.py
# checks this against the encoder).
_LEAD = "(?:[MN][DTjz]|O[DT])"  # a digit, and two bits of the next
_THREE = f"{_LEAD}[AEIMQUYcgk][w-z0-5]"
_ONE = "(?:[MN][AQgw]|O[AQ])"
_TWO = f"{_LEAD}[AEIMQUYcgk]"
_DIGITS = f"(?:{_THREE}){{1,3}}|(?:{_THREE}){{0,2}}(?:{_ONE}|{_TWO})|(?:{_THREE}){{3}}{_ONE}"
CURSOR_PATTERN = f"^(?:aWQ6(?:{_DIGITS}))?$"
_CURSOR = re.compile(CURSOR_PATTERN)


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int | None:
    """The id a cursor stands for, or None if it is not one the API could have made. Ids past
    the largest there can be read as that largest: the page after it is empty."""
    if not cursor or not _CURSOR.fullmatch(cursor):
        return None
    text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    return min(int(text.removeprefix("id:")), MAX_ID)


class Cursor(fields.Text):
    """A next_cursor as given out; empty (``cursor=``) like none: the first page."""

    default_error_messages = {
        "cursor": _l("This is not a cursor the API gave out; start again without one."),
    }

    def _deserialize(self, value, attr, data, **kwargs) -> int | None:
        text = super()._deserialize(value, attr, data, **kwargs)
        if text == "":
            return None
        last_id = decode_cursor(text)
        if last_id is None:
            raise self.make_error("cursor")
        return last_id


class PageArgs(fields.Schema):
    cursor = Cursor(
        metadata={
            "description": "The next_cursor of the previous page; none (or empty) for the first.",
            "pattern": CURSOR_PATTERN,
        }
    )
    limit = fields.Integer(
        strict=False,
        load_default=DEFAULT_LIMIT,
        validate=validate.Range(
            min=1, max=MAX_LIMIT, error=_l("Between {min} and {max} rows per page.")
        ),
        metadata={"description": f"Rows per page, at most {MAX_LIMIT}."},
    )


def page_schema(item: type[ma.Schema], name: str) -> type[ma.Schema]:
    """``{"items": [...], "next_cursor": ...}`` for one resource."""
    return ma.Schema.from_dict(
        {
            "items": ma.fields.List(ma.fields.Nested(item)),
            "next_cursor": ma.fields.String(
                allow_none=True,
                metadata={"description": "Pass as cursor for the next page; null on the last."},
            ),
        },
        name=name,
    )


def page_of(query: sa.Select, id_column, args: dict[str, Any]) -> dict[str, Any]:
    """One page of ``query``'s rows in id order, after ``args["cursor"]``."""
    after, limit = args.get("cursor"), args["limit"]
    if after is not None:
        query = query.where(id_column > after)
    rows = list(db.session.scalars(query.order_by(id_column).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_cursor": encode_cursor(rows[-1].id) if more else None}
