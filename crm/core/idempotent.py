"""Writes that jobs may repeat: a row whose unique key exists is left as it is."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from crm.extensions import db


def insert_new(table: sa.Table, rows: list[dict], key: str = "idempotency_key") -> list:
    """Insert ``rows`` into ``table``, skipping those whose ``key`` is taken (also by a
    concurrent writer); return the keys actually inserted."""
    if not rows:
        return []
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    result = db.session.connection().execute(
        dialect.insert(table).on_conflict_do_nothing(index_elements=[key]).returning(table.c[key]),
        rows,
    )
    return list(result.scalars())
