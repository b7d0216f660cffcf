"""Scoring the book (流失风险评分): every customer's churn risk, set-based, kept with its history.

One run computes every score in the database (``signals.figures``, ``signals.scores_of``)
into temporary tables, writes a history row for each customer whose score changed today, then
stores score, level, reasons and the time they were computed on those customers in one
UPDATE: ``churn_scored_at`` is when the stored score was worked out, and it stands until a
night finds another. The dossier's version is not moved: a score is not an edit, and a staff
member's open form stays valid across the nightly run.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from crm.core.clock import business_zone
from crm.extensions import db
from crm.models import ChurnScoreDay, Customer
from crm.models.base import utcnow
from crm.models.enums import ChurnLevel, RelationshipStatus
from crm.services.retention import signals


@dataclass
class ScoreSummary:
    scored: int = 0
    changed: int = 0
    levels: dict[str, int] = field(default_factory=dict)


def _figures_table() -> sa.Table:
    return sa.Table(
        "churn_figures",
        sa.MetaData(),
        sa.Column("customer_id", sa.Integer, primary_key=True),
        sa.Column("recency", sa.Integer),
        *(sa.Column(f"f_{s.code}", sa.Integer) for s in signals.SIGNALS),
        sa.Column("was_score", sa.SmallInteger),
        sa.Column("was_level", sa.String(6)),
        prefixes=["TEMPORARY"],
    )


def _figures(today: date) -> sa.Select:
    """Every customer's figures as of ``today``, with the score and level stored now, so that
    the changed scores are found from this table alone."""
    return signals.figures(today, as_of_now=True).add_columns(
        Customer.churn_score.label("was_score"), Customer.churn_level.label("was_level")
    )


def _run_table() -> sa.Table:
    return sa.Table(
        "churn_run",
        sa.MetaData(),
        sa.Column("customer_id", sa.Integer, primary_key=True),
        sa.Column("score", sa.SmallInteger),
        sa.Column("level", sa.String(6)),
        sa.Column("reasons", sa.Text),
        sa.Column("was_level", sa.String(6)),
        prefixes=["TEMPORARY"],
    )


def _upsert(table: sa.Table):
    return (pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert)(table)


def _analyse(connection, table: sa.Table) -> None:
    if db.engine.dialect.name == "postgresql":
        # A temporary table has no statistics until analysed: without them PostgreSQL plans
        # the joins that read it for a handful of rows.
        connection.exec_driver_sql(f"ANALYZE {table.name}")


def score_all(now: datetime | None = None) -> ScoreSummary:
    """Score every customer who is not lost, as of ``now``; the caller commits.

    The figures go into a temporary table first; the points, score, level and reasons are
    worked out from its plain columns, and only the customers whose score or level differs
    from the one stored go into a second table, from which the history and the customers
    are written: most scores stand from one night to the next, and an UPDATE of an unchanged
    row costs as much as of a changed one."""
    now = now or utcnow()
    today = now.astimezone(business_zone()).date()
    connection = db.session.connection()
    if db.engine.dialect.name == "sqlite":
        # Take the database's write lock first: a transaction that has read and then writes
        # while another holds the lock fails at once ("database is locked") where one that
        # starts by writing waits its turn.
        connection.execute(sa.delete(ChurnScoreDay.__table__).where(sa.false()))
    if db.engine.dialect.name == "postgresql":
        # Compiling these statements to machine code (JIT) costs more than it saves: each
        # reads a table once, and the arithmetic on a row is a few integer operations.
        connection.exec_driver_sql("SET LOCAL jit = off")
    figured, run = _figures_table(), _run_table()
    for table in (figured, run):
        table.drop(connection, checkfirst=True)
    run.create(connection)
    try:
        figured = _fill_figures(connection, figured, today)
        scored = signals.scores_of(figured, signals.current_weights()).subquery()
        connection.execute(
            run.insert().from_select(
                [c.name for c in run.c],
                sa.select(*(scored.c[c.name] for c in run.c)).where(_changed(scored)),
            )
        )
        _analyse(connection, run)
        changed = _write_history(connection, run, today, now)
        _store(connection, run, now)
        levels = _levels(connection, figured, run)
    finally:
        run.drop(connection)
        figured.drop(connection, checkfirst=True)
    return ScoreSummary(scored=sum(levels.values()), changed=changed, levels=levels)


def _levels(connection, figured: sa.Table, run: sa.Table) -> dict[str, int]:
    """How many customers (not lost) are at each level now: the levels they had, moved by
    the changes in ``run``; read from the two temporary tables, not the whole customer
    table again."""
    counts: Counter[str] = Counter()
    for level, n in connection.execute(
        sa.select(figured.c.was_level, sa.func.count())
        .where(figured.c.was_level.is_not(None))
        .group_by(figured.c.was_level)
    ):
        counts[getattr(level, "value", level)] += n
    for was, level, n in connection.execute(
        sa.select(run.c.was_level, run.c.level, sa.func.count()).group_by(
            run.c.was_level, run.c.level
        )
    ):
        if was is not None:
            counts[getattr(was, "value", was)] -= n
        counts[level] += n
    return {level: n for level, n in counts.items() if n}


def _fill_figures(connection, figured: sa.Table, today: date) -> sa.Table:
    """The figures of every customer into the temporary table ``figured``.

    On PostgreSQL by CREATE TABLE … AS, which may read on parallel workers as the bare
    aggregate does, where an INSERT … SELECT is planned serial whole. Every row goes to the
    leader, which writes it; at the default price of passing a row from a worker
    (``parallel_tuple_cost``) the planner would keep the statement serial all the same,
    though the joins and aggregates below it are the cost, so it is made cheap for this one
    statement. SQLite has no parallel reads: the table is declared and filled."""
    if db.engine.dialect.name != "postgresql":
        figured.create(connection)
        source = _figures(today).subquery()
        connection.execute(
            figured.insert().from_select(
                [c.name for c in figured.c], sa.select(*(source.c[c.name] for c in figured.c))
            )
        )
        return figured
    connection.exec_driver_sql("SET LOCAL parallel_tuple_cost = 0.001")
    try:
        created = _figures(today).into(figured.name, temporary=True)
        connection.execute(created)
    finally:
        connection.exec_driver_sql("SET LOCAL parallel_tuple_cost TO DEFAULT")
    return created.table


def _changed(scored) -> sa.ColumnElement[bool]:
    """The score differs from the one stored, or the level stored is not the score's. The
    level is compared with the stored score's (the same when the scores are equal): the
    databases work a column's expression out again for each use, and the new level's is the
    whole score, twice."""
    return sa.or_(
        scored.c.was_score.is_(None),
        scored.c.was_score != scored.c.score,
        scored.c.was_level.is_(None),
        scored.c.was_level != signals.level_case(scored.c.was_score),
    )


def _write_history(connection, run: sa.Table, today: date, now: datetime) -> int:
    """A history row for each customer in ``run`` (those whose score or level changed); a
    second run the same day rewrites that day's row."""
    history = ChurnScoreDay.__table__
    insert = _upsert(history).from_select(
        ["customer_id", "scored_on", "score", "level", "previous_level", "scored_at"],
        sa.select(
            run.c.customer_id,
            sa.literal(today, sa.Date),
            run.c.score,
            run.c.level,
            run.c.was_level,
            sa.literal(now, history.c.scored_at.type),
        )
        # SQLite reads "ON CONFLICT" after a SELECT without WHERE as part of the SELECT.
        .where(sa.true()),
    )
    insert = insert.on_conflict_do_update(
        index_elements=["customer_id", "scored_on"],
        set_={
            "score": insert.excluded.score,
            "level": insert.excluded.level,
            "scored_at": insert.excluded.scored_at,
        },
    )
    connection.execute(insert)
    # Counted back, not from the statement's rowcount, which drivers report unevenly for an
    # INSERT … SELECT … ON CONFLICT.
    return connection.execute(
        sa.select(sa.func.count())
        .select_from(history)
        .where(
            history.c.scored_on == today,
            history.c.scored_at == sa.literal(now, history.c.scored_at.type),
        )
    ).scalar_one()


def _store(connection, run: sa.Table, now: datetime) -> None:
    """Score, level, reasons and time on the customers in ``run`` (whose score or level
    changed)."""
    reasons: sa.ColumnElement = run.c.reasons
    postgresql = db.engine.dialect.name == "postgresql"
    if postgresql:
        reasons = sa.cast(reasons, sa.JSON)
        # Most nights a few customers in a hundred changed: found by primary key they are a
        # few thousand index reads, but at the default price of a random read (4, a spinning
        # disk's) PostgreSQL reads the whole customer table instead. Priced as on a
        # solid-state disk it reads by index when few changed, and still scans the table
        # when most did (the first scoring).
        connection.exec_driver_sql("SET LOCAL random_page_cost = 1.1")
    try:
        connection.execute(
            sa.update(Customer.__table__)
            .where(Customer.id == run.c.customer_id)
            .values(
                churn_score=run.c.score,
                churn_level=run.c.level,
                churn_reasons=reasons,
                churn_scored_at=sa.literal(now, Customer.churn_scored_at.type),
                # Not an edit of the dossier: its last-changed time stays.
                updated_at=Customer.updated_at,
            )
        )
    finally:
        if postgresql:
            connection.exec_driver_sql("SET LOCAL random_page_cost TO DEFAULT")


def became_high_since(since: date, owner_id: int | None = None) -> sa.Select:
    """Customers whose score became high after ``since`` and are high still (for the morning
    digest and the today page): (customer id, name, score, day it became high)."""
    days = (
        sa.select(
            ChurnScoreDay.customer_id, sa.func.max(ChurnScoreDay.scored_on).label("became_on")
        )
        .where(
            ChurnScoreDay.scored_on > since,
            ChurnScoreDay.level == ChurnLevel.HIGH,
            sa.or_(
                ChurnScoreDay.previous_level.is_(None),
                ChurnScoreDay.previous_level != ChurnLevel.HIGH,
            ),
        )
        .group_by(ChurnScoreDay.customer_id)
        .subquery()
    )
    statement = (
        sa.select(Customer.id, Customer.name, Customer.churn_score, days.c.became_on)
        .join(days, days.c.customer_id == Customer.id)
        .where(
            Customer.churn_level == ChurnLevel.HIGH,
            Customer.relationship_status != RelationshipStatus.LOST,
        )
        .order_by(Customer.churn_score.desc(), Customer.id)
    )
    if owner_id is not None:
        statement = statement.where(Customer.owner_id == owner_id)
    return statement
