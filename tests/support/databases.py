"""The suite's databases: one migrated database per backend, the app the tests share on it, and
the state each test starts from (every table empty but the reference rows, as migrated).

Building an app and emptying every table for each test was most of the suite's time. The app
is built once per backend; before each test only what the last one left is undone: the tables
holding rows, the id sequences that moved and, if one changed, the reference rows.
"""

from __future__ import annotations

import contextvars
import copy
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from flask.testing import FlaskClient
from flask_migrate import upgrade

from crm import create_app
from crm.extensions import db
from crm.models import Base

# Reference data the migrations seed (the experience matrix of seed 004): each test starts
# from these rows as migrated, even if an earlier test edited them.
REFERENCE_TABLES = ("touchpoint_category", "touchpoint_rule", "sms_template", "product")


class WorkerLikeClient(FlaskClient):
    """Each request runs as a web worker would: its own app context, ``g`` and session.

    Without this, requests would reuse the test's app context and share its
    identity map and Flask-Login's cached user, which no real request does.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


def build_app(url: str, **overrides: Any) -> Flask:
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url, **overrides})
    app.test_client_class = WorkerLikeClient
    return app


def migrate(url: str) -> None:
    """Apply the migrations with an app of their own: on SQLite they switch foreign keys off
    on their connection, which no test's connection may inherit."""
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        db.session.remove()
        db.engine.dispose()


class Database:
    """A migrated database, the app the tests share on it, and how to give a test its start."""

    def __init__(self, url: str) -> None:
        self.url = url
        migrate(url)
        self.app = build_app(url)
        self.settings = copy.deepcopy(dict(self.app.config))
        self.tables = Base.metadata.sorted_tables  # parents before the tables referring to them
        self.reference = [t for t in self.tables if t.name in REFERENCE_TABLES]
        self.others = [t for t in self.tables if t.name not in REFERENCE_TABLES]
        # One query names the tables holding any row.
        self._with_rows = sa.union_all(
            *(sa.select(sa.literal(t.name)).where(sa.exists().select_from(t)) for t in self.others)
        )
        with self.app.app_context():
            self.reference_rows = {t.name: self._rows(t) for t in self.reference}
            self.sequences = self._sequence_tables()
            self._clear(self.others, reference=True, sequences=self.sequences)
            db.session.commit()
            self.start_sequences = self._sequence_values()
            db.session.remove()
        _databases[url] = self

    def restore_settings(self) -> None:
        """Undo any change a test made to the shared app's settings."""
        if dict(self.app.config) != self.settings:
            self.app.config.clear()
            self.app.config.update(copy.deepcopy(self.settings))

    def empty(self) -> None:
        """Empty every table and put the reference rows back as migrated (sequences too),
        touching only what differs from that; in the app context of any app on this database."""
        with_rows = set(db.session.scalars(self._with_rows))
        others = [t for t in self.others if t.name in with_rows]
        values = self._sequence_values()
        moved = {
            name: table
            for name, table in self.sequences.items()
            if values.get(name) != self.start_sequences.get(name)
        }
        reference = any(table in self.reference for table in moved.values()) or any(
            self._rows(t) != self.reference_rows[t.name] for t in self.reference
        )
        if others or moved or reference:
            self._clear(others, reference=reference, sequences=moved)
        db.session.commit()

    def _clear(self, tables, *, reference: bool, sequences) -> None:
        doomed = [t for t in self.tables if t in tables or (reference and t in self.reference)]
        for table in reversed(doomed):  # children first
            db.session.execute(table.delete())
        if reference:
            for table in self.reference:
                db.session.execute(table.insert(), self.reference_rows[table.name])
        for name, table in sequences.items():
            if table in self.reference:
                # The rows came back with their ids; the sequence must continue after them.
                db.session.execute(sa.text(f"SELECT setval('{name}', max(id)) FROM {table.name}"))
            else:
                db.session.execute(sa.text(f"ALTER SEQUENCE {name} RESTART"))

    def _rows(self, table: sa.Table) -> list[dict]:
        query = table.select().order_by(*table.primary_key.columns)
        return [dict(row._mapping) for row in db.session.execute(query)]

    def _sequence_tables(self) -> dict[str, sa.Table]:
        """PostgreSQL's id sequences, each with its table (SQLite reuses ids by itself)."""
        if db.engine.dialect.name != "postgresql":
            return {}
        found = {}
        for table in self.tables:
            if "id" in table.c:
                name = db.session.scalar(
                    sa.text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table.name}
                )
                if name:
                    found[name] = table
        return found

    def _sequence_values(self) -> dict[str, int | None]:
        """Where each id sequence stands (None: not used since it was last restarted)."""
        if not self.sequences:
            return {}
        rows = db.session.execute(
            sa.text(
                "SELECT schemaname || '.' || sequencename, last_value FROM pg_sequences"
                " WHERE schemaname = current_schema()"
            )
        )
        return {name: value for name, value in rows if name in self.sequences}


_databases: dict[str, Database] = {}


def empty_tables() -> None:
    """Bring the current app's database back to the start of a test, in the middle of one."""
    _databases[current_app.config["SQLALCHEMY_DATABASE_URI"]].empty()
