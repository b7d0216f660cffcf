"""Benchmark: planning four weeks ahead for every customer, against a bulk insert of its rows.

What is measured. N customers (default 1,000,000; the synthetic bank of ``bench/bank.py``:
liquid assets log-normal around ¥400,000, willingness uniform 0–100, half of them agreed to
SMS and one in ten of those has since opted out) are placed under the default thresholds
(¥1,000,000 / 60), and the experience matrix is the one migration 0003 seeds. Every customer
has a birthday (``bank.add_birthdays``: one in ten lunar), and the four weeks hold Mid-Autumn
and the National Day holiday, so greetings, holiday moves and birthday experiences are
planned with the cadence. The plan starts empty. With a fixed today (so every run plans the
same rows), two things are timed with ``time.perf_counter``:

- the product: ``plan_contacts(today + 28 days, today=today)``, which is what
  ``flask crm plan`` runs (the cancelling pass, the matrix and cost limits, per range of
  customers one INSERT … SELECT of every cadence slot within budget, committed per range,
  then the holiday moves, the greetings and the birthday experiences), committed;
- the floor: a bulk insert of exactly the rows the product wrote (read back once, untimed,
  and kept in memory as tuples in insertion order: every column the product set, the others
  left to be NULL as they were, the id to the table as it was), the way ``bench/bank.py``
  loads customers: on SQLite one prepared INSERT run by ``executemany`` in one
  transaction, on PostgreSQL one ``COPY … FROM STDIN``; committed.

Why it is fair. Both write the same rows into the same table, with the same indexes and
foreign keys, in the same database, through the same app engine (so the same connection
settings and SQLite pragmas), from the same start state: after every timed run the
experiences are deleted and the database is settled (PostgreSQL: VACUUM ANALYZE and
CHECKPOINT; SQLite: a WAL checkpoint), untimed, and the table is checked empty. What the
product spends beyond the floor is what planning costs: reading the matrix, finding each
customer's next due dates, budgeting, and choosing the rows. The two alternate, floor first
in even rounds and product first in odd ones, after an untimed warm-up of each, so drift on
a shared machine hits both. The figure is the ratio of the medians, product / floor; the
target is 2×.

Run: ``python -m bench.planner [--customers N] [--backends sqlite,postgresql] [--repeat 3]
[--warmup 1] [--out docs/performance.md]``. It starts a throwaway SQLite file and PostgreSQL
server (``tests/support/pgserver.py``), prints the table and writes its section of the report.
"""

from __future__ import annotations

import inspect
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from bench.bank import BORN_SPAN_DAYS, LUNAR_EVERY, add_birthdays, prepare
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
from crm.models import Customer, Experience
from crm.services.planning.planner import plan_contacts, reachable_by_sms

DEFAULT_CUSTOMERS = 1_000_000
# Four weeks that hold Mid-Autumn (25 September) and the National Day holiday (1–7 October):
# festival greetings, visits moved off the holiday, and every customer's birthday that falls
# in them are really planned.
TODAY = date(2026, 9, 14)
HORIZON = timedelta(days=28)
TARGET = 2.0
CHUNK = inspect.signature(plan_contacts).parameters["chunk"].default  # what the CLI uses
HEADING = "## Rolling plan four weeks ahead"

customer = Customer.__table__
experience = Experience.__table__
# Every column the product could set: all but the id, which each insert takes from the table.
COLUMNS = tuple(c.name for c in experience.columns if c.name != "id")


@dataclass
class BackendResult:
    backend: str
    version: str
    customers: int
    floor: list[float] = field(default_factory=list)
    planner: list[float] = field(default_factory=list)
    planned: int = 0
    by_category: dict[str, int] = field(default_factory=dict)
    by_quadrant: dict[str, int] = field(default_factory=dict)
    by_occasion: dict[str, int] = field(default_factory=dict)  # "occasion/category": rows
    reachable: int = 0
    columns: tuple[str, ...] = COLUMNS

    @property
    def floor_median(self) -> float:
        return statistics.median(self.floor)

    @property
    def planner_median(self) -> float:
        return statistics.median(self.planner)

    @property
    def ratio(self) -> float:
        return self.planner_median / self.floor_median

    @property
    def verdict(self) -> str:
        return "meets" if self.ratio <= TARGET else "misses"

    @property
    def floor_statement(self) -> str:
        return floor_sql(self.backend, self.columns)


# --- measuring -----------------------------------------------------------------------------


def floor_sql(backend: str, columns: tuple[str, ...]) -> str:
    """The floor's statement: a prepared INSERT on SQLite, COPY on PostgreSQL."""
    names = ", ".join(columns)
    if backend == "postgresql":
        return f"COPY experience ({names}) FROM STDIN"
    return f"INSERT INTO experience ({names}) VALUES ({', '.join('?' * len(columns))})"


def time_planner() -> tuple[float, int]:
    """What ``flask crm plan`` runs, four weeks ahead, committed; returns (seconds, planned)."""
    started = time.perf_counter()
    summary = plan_contacts(TODAY + HORIZON, today=TODAY)
    db.session.commit()
    return time.perf_counter() - started, summary.planned


def read_rows() -> tuple[tuple[str, ...], list[tuple]]:
    """The rows the planner wrote, untimed, as the driver returns them (so in each backend's
    storage units), in the order they were inserted; only the columns it set (a column that
    is NULL in every row is left out, and stays NULL when the floor inserts)."""
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(f"SELECT {', '.join(COLUMNS)} FROM experience ORDER BY id")
        rows = cursor.fetchall()
        cursor.close()
        raw.commit()
    finally:
        raw.close()
    kept = [i for i in range(len(COLUMNS)) if any(row[i] is not None for row in rows)]
    columns = tuple(COLUMNS[i] for i in kept)
    return columns, [tuple(row[i] for i in kept) for row in rows]


def time_floor(columns: tuple[str, ...], rows: list[tuple]) -> float:
    """The same rows by the fastest plain method for the backend, committed."""
    sql = floor_sql(db.engine.dialect.name, columns)
    raw = db.engine.raw_connection()
    try:
        started = time.perf_counter()
        cursor = raw.cursor()
        if db.engine.dialect.name == "postgresql":
            with cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(sql, rows)  # the driver opens one transaction for all rows
        raw.commit()
        seconds = time.perf_counter() - started
        cursor.close()
    finally:
        raw.close()
    return seconds


def describe_bank(result: BackendResult) -> None:
    """The customers the planner works on: per quadrant, and how many can be sent SMS."""
    result.by_quadrant = dict(
        db.session.execute(
            sa.select(customer.c.quadrant, sa.func.count())
            .group_by(customer.c.quadrant)
            .order_by(sa.func.count().desc())
        ).all()
    )
    result.reachable = db.session.scalar(
        sa.select(sa.func.count()).select_from(customer).where(reachable_by_sms())
    )
    db.session.commit()


def restore() -> None:
    """Back to the start state, untimed: no experiences, the database settled."""
    db.session.execute(sa.delete(experience))
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        maintenance("VACUUM ANALYZE experience", "CHECKPOINT")
    else:
        maintenance("PRAGMA wal_checkpoint(TRUNCATE)")
    _check_start_state()


def _check_start_state() -> None:
    left = db.session.scalar(sa.select(sa.func.count()).select_from(experience))
    db.session.commit()
    if left:
        raise RuntimeError(f"start state lost: {left} experiences left")


def _count_written() -> int:
    written = db.session.scalar(sa.select(sa.func.count()).select_from(experience))
    db.session.commit()
    return written


def _one_round(result: BackendResult, rows: list[tuple], floor_first: bool) -> None:
    steps = ("floor", "planner") if floor_first else ("planner", "floor")
    for step in steps:
        if step == "floor":
            result.floor.append(time_floor(result.columns, rows))
            written = _count_written()
        else:
            seconds, written = time_planner()
            result.planner.append(seconds)
        if written != len(rows):
            raise RuntimeError(f"{step} wrote {written} rows, the planner {len(rows)} before")
        restore()


def _capture(result: BackendResult, log) -> list[tuple]:
    """One untimed planner run (the product's warm-up): its rows are what the floor inserts."""
    seconds, planned = time_planner()
    result.columns, rows = read_rows()
    if planned != len(rows):
        raise RuntimeError(f"planner says {planned} planned, the table holds {len(rows)}")
    category = result.columns.index("category")
    result.planned = planned
    result.by_category = dict(Counter(row[category] for row in rows).most_common())
    if "occasion" in result.columns:
        occasion = result.columns.index("occasion")
        result.by_occasion = dict(
            Counter(
                f"{row[occasion]}/{row[category]}" for row in rows if row[occasion] is not None
            ).most_common()
        )
    log(f"  planned {planned:,} experiences in {seconds:.1f} s (warm-up, untimed)")
    restore()
    return rows


def measure(backend: str, count: int, repeat: int, warmup: int, log=print) -> BackendResult:
    """Capture the rows, warm up, then ``repeat`` alternating rounds of floor and product."""
    result = BackendResult(backend, server_version(), count)
    describe_bank(result)
    restore()
    rows = _capture(result, log)
    if warmup:
        time_floor(result.columns, rows)  # the floor's warm-up; the capture was the product's
        restore()
    scratch = BackendResult(backend, "", count, columns=result.columns)
    for _ in range(warmup - 1):
        _one_round(scratch, rows, True)
    for round_number in range(repeat):
        _one_round(result, rows, round_number % 2 == 0)
        log(
            f"  round {round_number + 1}: floor {result.floor[-1]:.3f} s, "
            f"planner {result.planner[-1]:.3f} s"
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
            add_birthdays()
            return measure(backend, count, repeat, warmup, log)
        finally:
            db.session.remove()
            db.engine.dispose()


# --- reporting -----------------------------------------------------------------------------


def render_table(results: list[BackendResult]) -> str:
    lines = [
        "| backend | rows planned | floor median s | planner median s | ratio | target | verdict |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.backend} | {r.planned} | {r.floor_median:.3f} | {r.planner_median:.3f} "
            f"| {r.ratio:.2f} | {TARGET:.1f} | {r.verdict} |"
        )
    return "\n".join(lines)


def _runs(results: list[BackendResult]) -> str:
    return "\n".join(
        f"- {r.backend}: floor {', '.join(f'{s:.3f}' for s in r.floor)}; "
        f"planner {', '.join(f'{s:.3f}' for s in r.planner)}"
        for r in results
    )


def _statements(results: list[BackendResult]) -> str:
    return "\n".join(f"- {r.backend}: `{r.floor_statement}`" for r in results)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {n:,}" for name, n in counts.items())


def render_section(results: list[BackendResult], command: str) -> str:
    first = results[0]
    count = first.customers
    planned = ", ".join(f"{r.backend} {r.planned:,}" for r in results)
    return f"""{HEADING}

Requirement: at 1,000,000 customers, planning four weeks ahead from an empty plan takes
at most {TARGET:.0f}× a bulk insert of the same rows into the same table, in the same
database and measured side by side in one run (`bench/planner.py`; its docstring says why
the comparison is fair).

- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC
- Machine: {machine({r.backend: r.version for r in results})}
- Customers: {count:,}, liquid assets log-normal around ¥400,000, willingness uniform
  0–100, placed under ¥1,000,000 / 60; half agreed to SMS and one in ten of those has
  opted out. The matrix, cadences and cost limits as migration 0003 seeds them; no
  experiences yet.
- Per quadrant: {_counts(first.by_quadrant)}.
- Reachable by SMS (routine experiences): {first.reachable:,}.
- Today {TODAY.isoformat()}, until {(TODAY + HORIZON).isoformat()}.
- Rows planned: {planned}.
- Per category: {_counts(first.by_category)}.
- Occasions (every customer has a birthday, born over {BORN_SPAN_DAYS // 365} years from 1940,
  one in {LUNAR_EVERY} kept by the lunar calendar; the window holds Mid-Autumn and the
  National Day holiday), per occasion/category: {_counts(first.by_occasion)}.
- Floor: the planner's rows, read back once and kept in memory, inserted again (the
  columns it set; the id from the table) by the statement below, committed. Planner:
  `plan_contacts(today + 28 days, today=today)`, what `flask crm plan` runs, committed:
  per {CHUNK:,} customer ids one INSERT … SELECT. Medians of {len(first.floor)} runs
  each, alternating, each into an empty table.

{render_table(results)}

Every run, in seconds:

{_runs(results)}

The floor statements (SQLite: `executemany` in one transaction; PostgreSQL: rows written
with psycopg's `write_row`):

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
    args = parse_args("bench.planner", __doc__, argv, {"customers": DEFAULT_CUSTOMERS})
    return run_on_throwaway_databases(
        args,
        lambda urls: run_benchmark(
            urls, args.customers, args.repeat, args.out, args.command, args.warmup
        ),
    )


if __name__ == "__main__":
    sys.exit(main())
