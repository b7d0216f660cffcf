"""What keeping an experiment's sums costs the writes, for ``bench.experiments``: one held
experience for each of up to ``WRITES`` of the experiment's customers, written while it runs
(the triggers of migration ``0026_experiment_spent`` add each cost to the customer's
assignment), against the same rows written as planned experiences, which they pass over."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa

from crm.extensions import db

WRITES = 100_000


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
