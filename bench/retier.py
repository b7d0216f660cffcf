"""Benchmark: re-tiering every customer after a threshold change, against a bare UPDATE.

What is measured. N customers (default 1,000,000; liquid assets log-normal around ¥400,000,
so about a quarter have ¥1,000,000 or more; willingness uniform 0–100) are placed under the
default thresholds (¥1,000,000 / 60), each with one first-placement event as the migration
writes them. The thresholds then change to ¥500,000 / 50, which moves about a quarter of
them, and two things are timed with ``time.perf_counter``:

- the floor: one bare ``UPDATE customer SET quadrant = CASE … END`` (the rule's own CASE
  with the new thresholds written in; every row, no WHERE, no other column, no events),
  committed;
- the product: ``retier_all(Thresholds(500000, 50))``, which is what ``flask crm retier``
  runs (events, the UPDATE, per-chunk commits and the summary), committed.

Why it is fair. Both run on the same table in the same database, through the same app
engine (so the same connection settings and SQLite pragmas), from the same start state:
after every timed run the quadrants are set back under the defaults, the events that run
wrote are deleted, and the database is settled (PostgreSQL: VACUUM ANALYZE and CHECKPOINT;
SQLite: a WAL checkpoint), untimed. The two alternate, floor first in even rounds and
product first in odd ones, after an untimed warm-up of each, so drift on a shared machine
hits both. The figure is the ratio of the medians, product / floor; the target is 1.3×.

Run: ``python -m bench.retier [--customers N] [--backends sqlite,postgresql] [--repeat 3]
[--warmup 1] [--out docs/performance.md]``. It starts a throwaway SQLite file and PostgreSQL server
(``tests/support/pgserver.py``), prints the table and writes its section of the report.
"""

from __future__ import annotations

import inspect
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from bench.bank import DEFAULTS, place_under_defaults, prepare
from bench.common import (
    machine,
    maintenance,
    parse_args,
    run_on_throwaway_databases,
    server_version,
    write_section,
)
from crm import create_app
from crm.extensions import db
from crm.models import Customer, QuadrantEvent
from crm.services.customers.tiering import Thresholds, quadrant_case, retier_all

DEFAULT_CUSTOMERS = 1_000_000
NEW = Thresholds(Decimal("500000"), 50)
TARGET = 1.3
CHUNK = inspect.signature(retier_all).parameters["chunk"].default  # what the CLI uses
HEADING = "## Re-tier after a threshold change"

customer = Customer.__table__
events = QuadrantEvent.__table__


@dataclass
class BackendResult:
    backend: str
    version: str
    customers: int
    floor: list[float] = field(default_factory=list)
    retier: list[float] = field(default_factory=list)
    moved: int = 0
    floor_statement: str = ""

    @property
    def floor_median(self) -> float:
        return statistics.median(self.floor)

    @property
    def retier_median(self) -> float:
        return statistics.median(self.retier)

    @property
    def ratio(self) -> float:
        return self.retier_median / self.floor_median

    @property
    def verdict(self) -> str:
        return "meets" if self.ratio <= TARGET else "misses"


# --- measuring -----------------------------------------------------------------------------


def floor_sql() -> str:
    """``UPDATE customer SET quadrant = CASE … END`` and nothing else. Written out, because a
    Core update of the table would also set ``updated_at`` (its ``onupdate``)."""
    case = quadrant_case(NEW).compile(db.engine, compile_kwargs={"literal_binds": True})
    return f"UPDATE customer SET quadrant = {case}"


def time_floor() -> float:
    """The bare statement: every row's quadrant from the rule's CASE, committed."""
    statement = sa.text(floor_sql())
    started = time.perf_counter()
    db.session.execute(statement)
    db.session.commit()
    return time.perf_counter() - started


def time_retier() -> tuple[float, int]:
    """What ``flask crm retier`` runs after the change, committed; returns (seconds, moved)."""
    started = time.perf_counter()
    summary = retier_all(NEW)
    db.session.commit()
    return time.perf_counter() - started, summary.moved


def restore(last_event_id: int, count: int) -> None:
    """Back to the start state, untimed: quadrants under the defaults, no new events."""
    place_under_defaults()
    db.session.execute(sa.delete(events).where(events.c.id > last_event_id))
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        maintenance("VACUUM ANALYZE customer, quadrant_event", "CHECKPOINT")
    else:
        maintenance("PRAGMA wal_checkpoint(TRUNCATE)")
    _check_start_state(count)


def _check_start_state(count: int) -> None:
    default = quadrant_case(DEFAULTS)
    misplaced = db.session.scalar(
        sa.select(sa.func.count()).select_from(customer).where(customer.c.quadrant != default)
    )
    placements = db.session.scalar(sa.select(sa.func.count()).select_from(events))
    db.session.commit()
    if misplaced or placements != count:
        raise RuntimeError(f"start state lost: {misplaced} misplaced, {placements} events")


def _one_round(result: BackendResult, floor_first: bool, last_event_id: int) -> None:
    steps = ("floor", "retier") if floor_first else ("retier", "floor")
    for step in steps:
        if step == "floor":
            result.floor.append(time_floor())
        else:
            seconds, moved = time_retier()
            result.retier.append(seconds)
            if result.moved and moved != result.moved:
                raise RuntimeError(f"moved {moved} this round, {result.moved} before")
            result.moved = moved
        restore(last_event_id, result.customers)


def measure(backend: str, count: int, repeat: int, warmup: int, log=print) -> BackendResult:
    """Warm up, then ``repeat`` alternating rounds of floor and product, from one start."""
    result = BackendResult(backend, server_version(), count, floor_statement=floor_sql())
    last_event_id = db.session.scalar(sa.select(sa.func.max(events.c.id))) or 0
    _check_start_state(count)
    for _ in range(warmup):
        _one_round(BackendResult(backend, "", count), True, last_event_id)
    for round_number in range(repeat):
        _one_round(result, round_number % 2 == 0, last_event_id)
        log(
            f"  round {round_number + 1}: floor {result.floor[-1]:.3f} s, "
            f"retier {result.retier[-1]:.3f} s"
        )
    return result


def bench_backend(
    backend: str, url: str, count: int, repeat: int, warmup: int, log=print
) -> BackendResult:
    """Load ``count`` customers into the empty database at ``url`` and measure there."""
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        try:
            log(f"{backend}: loading {count:,} customers")
            prepare(count, log)
            return measure(backend, count, repeat, warmup, log)
        finally:
            db.session.remove()
            db.engine.dispose()


# --- reporting -----------------------------------------------------------------------------


def render_table(results: list[BackendResult]) -> str:
    lines = [
        "| backend | floor median s | retier median s | ratio | target | verdict | moved |",
        "|---|---:|---:|---:|---:|---|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.backend} | {r.floor_median:.3f} | {r.retier_median:.3f} | {r.ratio:.2f} "
            f"| {TARGET:.1f} | {r.verdict} | {r.moved} |"
        )
    return "\n".join(lines)


def _runs(results: list[BackendResult]) -> str:
    return "\n".join(
        f"- {r.backend}: floor {', '.join(f'{s:.3f}' for s in r.floor)}; "
        f"retier {', '.join(f'{s:.3f}' for s in r.retier)}"
        for r in results
    )


def _statements(results: list[BackendResult]) -> str:
    return "\n".join(f"- {r.backend}: `{r.floor_statement}`" for r in results)


def render_section(results: list[BackendResult], command: str) -> str:
    count = results[0].customers
    moved = ", ".join(f"{r.backend} {r.moved:,}" for r in results)
    share = results[0].moved / count if count else 0.0
    return f"""{HEADING}

Requirement: at 1,000,000 customers, `flask crm retier` after a threshold change takes at
most {TARGET}× a bare `UPDATE … CASE` of the same table in the same database, measured side by
side in one run (`bench/retier.py`; its docstring says why the comparison is fair).

- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC
- Machine: {machine({r.backend: r.version for r in results})}
- Customers: {count:,}, liquid assets log-normal around ¥400,000 (about a quarter at
  ¥1,000,000 or more), willingness uniform 0–100; all placed under ¥1,000,000 / 60, each
  with one first-placement event; ANALYZE after loading.
- Change: thresholds ¥1,000,000 / 60 → ¥500,000 / 50. Customers moved: {moved}
  ({share:.1%}).
- Floor: `UPDATE customer SET quadrant = CASE … END` over every row, committed (below).
  Retier: `retier_all(Thresholds(500000, 50))`, what `flask crm retier` runs, committed:
  per {CHUNK:,} ids an INSERT … SELECT of the events and an UPDATE of the moved rows only.
  Medians of {len(results[0].floor)} runs each, alternating, each from the same start state.

{render_table(results)}

Every run, in seconds:

{_runs(results)}

The floor statements (money in fen on SQLite, in yuan on PostgreSQL):

{_statements(results)}

Rerun: `{command}`
"""


def run_benchmark(
    urls: dict[str, str],
    count: int,
    repeat: int,
    out: Path,
    command: str,
    warmup: int = 1,
    log=print,
) -> list[BackendResult]:
    """Measure each backend at its (empty) database URL, print the table, write the report."""
    results = [bench_backend(b, url, count, repeat, warmup, log) for b, url in urls.items()]
    log(render_table(results))
    write_section(out, HEADING, render_section(results, command))
    return results


# --- command line --------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = parse_args("bench.retier", __doc__, argv, {"customers": DEFAULT_CUSTOMERS})
    return run_on_throwaway_databases(
        args,
        lambda urls: run_benchmark(
            urls, args.customers, args.repeat, args.out, args.command, args.warmup
        ),
    )


if __name__ == "__main__":
    sys.exit(main())
