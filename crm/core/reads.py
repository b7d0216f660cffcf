"""Reads that only show: statements built once, run on the session's connection.

A page that only shows rows need not pay for the ORM's identity map and change tracking,
nor for building its statements again on every request: building, caching and adapting a
fresh statement cost several times running it (`bench/web.py` measures the pages that read
this way). A statement here is built once per process (``functools.cache`` on the function
that builds it) with a bound parameter for every value, and returns rows that read like
the objects they stand for (``row.name``, ``row.owner_name``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from crm.extensions import db


def _connection() -> sa.Connection:
    # Pending ORM changes first, as the ORM's own autoflush would: a read inside a
    # transaction that has changed something sees the change.
    db.session.flush()
    return db.session.connection()


def rows(statement: sa.Executable, **values) -> Sequence[sa.Row]:
    return _connection().execute(statement, values).all()


def first(statement: sa.Executable, **values) -> sa.Row | None:
    return _connection().execute(statement, values).first()


def scalar(statement: sa.Executable, **values):
    return _connection().execute(statement, values).scalar()
