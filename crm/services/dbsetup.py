"""Engine settings that each database needs."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine


def configure_engine(engine: Engine) -> None:
    """Turn on what SQLite leaves off by default: foreign keys, WAL, a busy timeout."""
    if engine.dialect.name != "sqlite":
        return

    @sa.event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        # WAL lets the web app and the scheduler read while the other writes.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()
