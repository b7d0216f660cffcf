"""What keeping an experiment's figures costs the writes, for ``bench.experiments``; no target,
the figures say what a write pays for the report's speed:

- held experiences: one for each of up to ``WRITES`` of the experiment's customers, written
  while it runs (the triggers of migration ``0026_experiment_spent`` add each cost to the
  customer's assignment), against the same rows written as planned experiences, which they
  pass over;
- dossier changes: the willingness of up to ``WRITES`` of the experiment's customers changed
  in one statement (the trigger of migration ``0027_experiment_standing`` copies each onto
  the customer's assignment), against the same statement with that trigger off."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa

from bench.common import side_by_side
from crm.extensions import db

WRITES = 100_000
STANDING_TRIGGER = "customer_standing_on_update"


def written_rows(experiment_id: int, status: str, day) -> list[tuple]:
    """One experience for each of up to ``WRITES`` of the experiment's customers, held on
    ``day`` (or planned for it), as ``bench.experiments.EXPERIENCE_COLUMNS``."""
    from crm.models.experiment import ExperimentAssignment as A

    ids = db.session.scalars(
        sa.select(A.customer_id).where(A.experiment_id == experiment_id).limit(WRITES)
    ).all()
    db.session.rollback()
    now = datetime.now(UTC)
    cost = Decimal("123.45")
    return [
        (i, "visit", status, "staff", day, day if status == "done" else None, cost,
         cost if status == "done" else None, None, now, now if status == "done" else None, 1)
        for i in ids
    ]  # fmt: skip


def time_writes(rows: list[tuple], columns: str) -> float:
    """Write the rows and commit (timed); then remove them (untimed)."""
    from crm.core import bulk
    from crm.models import Experience

    table = Experience.__table__
    last = db.session.scalar(sa.select(sa.func.max(Experience.id)))
    started = time.perf_counter()
    bulk.insert(table, [n.strip() for n in columns.split(",")], rows)
    db.session.commit()
    seconds = time.perf_counter() - started
    db.session.execute(sa.delete(Experience).where(Experience.id > last))
    db.session.commit()
    return seconds


@contextmanager
def standing_trigger_off() -> Iterator[None]:
    """The dossier trigger of migration 0027 off for a while, then as it was."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text(f"ALTER TABLE customer DISABLE TRIGGER {STANDING_TRIGGER}"))
        db.session.commit()
        try:
            yield
        finally:
            db.session.execute(sa.text(f"ALTER TABLE customer ENABLE TRIGGER {STANDING_TRIGGER}"))
            db.session.commit()
        return
    created = db.session.scalar(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = :name"),
        {"name": STANDING_TRIGGER},
    )
    db.session.execute(sa.text(f"DROP TRIGGER {STANDING_TRIGGER}"))
    db.session.commit()
    try:
        yield
    finally:
        db.session.execute(sa.text(created))
        db.session.commit()


def time_dossier_changes(experiment_id: int) -> tuple[float, int]:
    """Change the willingness of up to ``WRITES`` of the experiment's customers by a point
    (round the range, so that every round changes every one) and commit; timed."""
    from crm.models import Customer
    from crm.models.customer import WILLINGNESS_MAX, WILLINGNESS_MIN
    from crm.models.experiment import ExperimentAssignment as A

    chosen = (
        sa.select(A.customer_id)
        .where(A.experiment_id == experiment_id)
        .order_by(A.customer_id)
        .limit(WRITES)
    )
    points = WILLINGNESS_MAX - WILLINGNESS_MIN + 1
    started = time.perf_counter()
    changed = db.session.execute(
        sa.update(Customer)
        .where(Customer.id.in_(chosen.scalar_subquery()))
        .values(willingness=WILLINGNESS_MIN + (Customer.willingness - WILLINGNESS_MIN + 1) % points)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return time.perf_counter() - started, changed


def measure_writes(
    result, experiment_id: int, day, columns: str, repeat: int, warmup: int, log
) -> None:
    """Both write measures into ``result`` (a ``bench.experiments.BackendResult``), each pair
    alternating which goes first, after ``warmup`` untimed rounds."""
    held = written_rows(experiment_id, "done", day)
    planned = written_rows(experiment_id, "planned", day)
    result.written = len(held)

    def dossiers_without_trigger() -> float:
        with standing_trigger_off():
            return dossiers()

    def dossiers() -> float:
        seconds, result.changed = time_dossier_changes(experiment_id)
        return seconds

    for round_number in range(warmup + repeat):
        timed = round_number >= warmup
        side_by_side(
            round_number,
            timed,
            (lambda: time_writes(planned, columns), result.planned),
            (lambda: time_writes(held, columns), result.held),
        )
        side_by_side(
            round_number,
            timed,
            (dossiers_without_trigger, result.standing_off),
            (dossiers, result.standing),
        )
        if timed:
            log(
                f"  writes round: planned {result.planned[-1]:.3f} s, held {result.held[-1]:.3f} s;"
                f" dossiers without the trigger {result.standing_off[-1]:.3f} s, "
                f"with it {result.standing[-1]:.3f} s"
            )
