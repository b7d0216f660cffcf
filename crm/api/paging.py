"""Cursor pagination: pages walk the primary key upwards, so page 2,000 costs what page 1
costs (keyset, never OFFSET), and rows added during a walk are met at its end.

A cursor is opaque to clients: base64 of the last id a page held.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from marshmallow import validate

from crm.api import fields
from crm.core.inputs import as_id
from crm.extensions import db

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
_CURSOR = re.compile(r"id:(\d{1,10})")


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int | None:
    """The id a cursor stands for, or None if the API did not make it."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        return None
    match = _CURSOR.fullmatch(text)
    return as_id(match.group(1)) if match else None


class Cursor(fields.Text):
    default_error_messages = {
        "cursor": _l("This is not a cursor the API gave out; start again without one."),
    }

    def _deserialize(self, value, attr, data, **kwargs) -> int:
        last_id = decode_cursor(super()._deserialize(value, attr, data, **kwargs))
        if last_id is None:
            raise self.make_error("cursor")
        return last_id


class PageArgs(fields.Schema):
    cursor = Cursor(
        metadata={"description": "The next_cursor of the previous page; none for the first."}
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
