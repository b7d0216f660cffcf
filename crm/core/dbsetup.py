"""Engine settings that each database needs."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

# Set on a connection's ``info`` once its transaction has sent anything but a SELECT.
WROTE = "crm_wrote"


def configure_engine(engine: Engine) -> None:
    """Note which transactions wrote (see ``end_read_transaction``); on SQLite, turn on what
    it leaves off by default: foreign keys, WAL, a busy timeout."""
    _note_writes(engine)
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


def _note_writes(engine: Engine) -> None:
    @sa.event.listens_for(engine, "before_cursor_execute")
    def _note(conn, _cursor, statement, _parameters, _context, _many):
        # Anything but a SELECT counts, savepoints and CTEs included: in doubt, it wrote.
        if statement.lstrip()[:6].upper() != "SELECT":
            conn.info[WROTE] = True

    @sa.event.listens_for(engine, "commit")
    @sa.event.listens_for(engine, "rollback")
    def _ended(conn):
        conn.info.pop(WROTE, None)


def end_read_transaction(session: Session) -> None:
    """End a transaction that only read with COMMIT rather than the ROLLBACK the session
    would send when the request is done.

    psycopg forgets every prepared statement on ROLLBACK (it cannot tell what a rolled-back
    transaction changed), so with read-only requests ending that way PostgreSQL parsed and
    planned every statement of every page anew: most of a dossier page's time on the
    server. A transaction that wrote anything, or a session holding changes not yet
    flushed, is left alone: the session rolls it back, as it always has.
    """
    if not session.in_transaction() or session.new or session.dirty or session.deleted:
        return
    if session.connection().info.get(WROTE):
        return
    try:
        session.commit()
    except sa.exc.SQLAlchemyError:
        session.rollback()  # a lost connection, say: the request's answer is already made
