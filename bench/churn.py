"""Benchmark: scoring every customer's churn risk, against a bare SQL aggregate of its signals.

What is measured. N customers (default 1,000,000; the synthetic bank of ``bench/bank.py``,
opened through 2025) with a history the signals read, the same on every backend (drawn from
each customer's id): two held experiences each (one in five liked, one in ten without a
response, one in twenty negative, over the last 400 days), an open complaint for one in a
hundred (half past its answer date), a policy for one in ten maturing within the last 300
days, and audit rows revising willingness (one in twenty) and liquid assets (one in forty)
within the last 200 days. With a fixed now, two things are timed with ``time.perf_counter``:

- the floor: one ``SELECT`` that computes every signal's figure for every customer and sums
  each over the book (``signals.figures``: the same joins and aggregates, as of the same
  day), so the database does all the reading and arithmetic and returns one row;
- the product: ``score_all(now)``, which is what ``flask crm churn-score`` (and the nightly
  job) runs: the same figures into a temporary table, their points, score, level and
  reasons into another, a history row and an UPDATE for each customer whose score or level
  changed since the night before, committed.

Why it is fair. Both run on the same tables in the same database, through the same app
engine, from the same start state: the book as scored the night before (the first scoring,
of every customer, is done once before the rounds, untimed for the ratio and reported
beside it). After every timed product run that night's history is deleted and the night
before is scored again, untimed, and the database is settled (PostgreSQL: VACUUM ANALYZE and
CHECKPOINT; SQLite: a WAL checkpoint). The two alternate, floor first in even rounds and
product first in odd ones, after an untimed warm-up of each. The figure is the ratio of the
medians, product / floor; the target is 2×.

Run: ``python -m bench.churn [--customers N] [--backends sqlite,postgresql] [--repeat 3]
[--warmup 1] [--out docs/performance.md]``. It starts a throwaway SQLite file and PostgreSQL
server (``tests/support/pgserver.py``), prints the table and writes its section of the report.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from bench.bank import _load, _stored, prepare
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
from crm.models import ChurnScoreDay, Customer
from crm.services.retention import scoring, signals

DEFAULT_CUSTOMERS = 1_000_000
NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # noon in Shanghai
TODAY = date(2026, 11, 23)
NIGHT_BEFORE = NOW - timedelta(days=1)
TARGET = 2.0
HEADING = "## Churn risk for every customer"


@dataclass
class BackendResult:
    backend: str
    version: str
    customers: int
    floor: list[float] = field(default_factory=list)
    product: list[float] = field(default_factory=list)
    scored: int = 0
    changed: int = 0  # scores the timed night changed
    first_scoring: float = 0.0  # seconds, once: every customer scored for the first time
    levels: dict[str, int] = field(default_factory=dict)
    history: dict[str, int] = field(default_factory=dict)  # rows loaded per table

    @property
    def floor_median(self) -> float:
        return statistics.median(self.floor)

    @property
    def product_median(self) -> float:
        return statistics.median(self.product)

    @property
    def ratio(self) -> float:
        return self.product_median / self.floor_median

    @property
    def verdict(self) -> str:
        return "meets" if self.ratio <= TARGET else "misses"


# --- the history the signals read ------------------------------------------------------------


def _spread(customer_id: int, salt: int, modulo: int) -> int:
    """A well-mixed number in [0, modulo) from the id (the same on every backend and run)."""
    return (customer_id * 2654435761 + salt * 40503) % 2**32 % modulo


def _experiences(ids: range, sqlite: bool) -> Iterator[tuple]:
    cost = 8000 if sqlite else Decimal("80.00")
    at = _stored(NOW, sqlite)
    for i in ids:
        for k in (1, 2):
            day = TODAY - timedelta(days=_spread(i, k, 400))
            pick = _spread(i, 10 + k, 20)
            response = (
                "positive"
                if pick < 4
                else "no_response"
                if pick < 6
                else "negative"
                if pick == 6
                else "neutral"
            )
            yield (i, "visit", "done", "staff", day, day, cost, cost, response, 1, at)


def _complaints(ids: range, sqlite: bool) -> Iterator[tuple]:
    for i in ids:
        if _spread(i, 3, 100) == 0:
            opened = NOW - timedelta(days=3 + 5 * _spread(i, 4, 2))
            yield (
                i,
                "收益说明不清",
                _stored(opened, sqlite),
                _stored(opened + timedelta(7), sqlite),
                1,
            )


def _policies(ids: range, sqlite: bool) -> Iterator[tuple]:
    premium = 1_000_000 if sqlite else Decimal("10000.00")
    at = _stored(NOW, sqlite)
    for i in ids:
        if _spread(i, 5, 10) == 0:
            matures = TODAY - timedelta(days=_spread(i, 6, 300))
            yield (
                i,
                f"C{i:012d}",
                "鑫享年金",
                "annuity",
                premium,
                "single",
                date(2020, 1, 1),
                matures,
                "matured",
                1,
                at,
                at,
            )


def _audit(ids: range, sqlite: bool) -> Iterator[tuple]:
    for i in ids:
        at = _stored(NOW - timedelta(days=_spread(i, 7, 200)), sqlite)
        if _spread(i, 8, 20) == 0:
            yield (at, "customer", i, i, "update", "willingness", "80", "50")
        if _spread(i, 9, 40) == 0:
            yield (at, "customer", i, i, "update", "liquid_assets", "2000000.00", "900000.00")


def add_history(log=print) -> dict[str, int]:
    """Load the history above for every customer; ANALYZE. Returns rows per table."""
    sqlite = db.engine.dialect.name == "sqlite"
    low, high = db.session.execute(
        sa.select(sa.func.min(Customer.id), sa.func.max(Customer.id))
    ).one()
    db.session.rollback()
    ids = range(low, high + 1)
    loads = {
        "experience": (
            "customer_id, category, status, origin, due_on, held_on, planned_cost, actual_cost, "
            "response, version, created_at",
            _experiences,
        ),
        "complaint": ("customer_id, point, opened_at, due_at, version", _complaints),
        "policy": (
            "customer_id, policy_number, product_name, product_type, premium, payment_mode, "
            "start_date, maturity_date, status, version, created_at, updated_at",
            _policies,
        ),
        "audit_log": (
            "at, entity, entity_id, customer_id, action, field, old_value, new_value",
            _audit,
        ),
    }
    counts = {}
    for table, (columns, rows) in loads.items():
        started = time.perf_counter()
        _load(table, columns, rows(ids, sqlite))
        counts[table] = db.session.scalar(sa.select(sa.func.count()).select_from(sa.table(table)))
        db.session.rollback()
        log(f"  {table}: {counts[table]:,} rows in {time.perf_counter() - started:.1f} s")
    maintenance("ANALYZE")
    return counts


# --- measuring -----------------------------------------------------------------------------


def floor_statement() -> sa.Select:
    """Every signal's figure for every customer, summed over the book: one row back."""
    figures = signals.figures(TODAY, as_of_now=True).subquery()
    return sa.select(
        sa.func.count(),
        *(sa.func.sum(figures.c[f"f_{s.code}"]) for s in signals.SIGNALS),
        sa.func.sum(figures.c.recency),
    )


def time_floor() -> float:
    statement = floor_statement()
    started = time.perf_counter()
    db.session.execute(statement).one()
    db.session.commit()
    return time.perf_counter() - started


def time_product() -> tuple[float, scoring.ScoreSummary]:
    """What ``flask crm churn-score`` runs, committed."""
    started = time.perf_counter()
    summary = scoring.score_all(NOW)
    db.session.commit()
    return time.perf_counter() - started, summary


def restore() -> None:
    """Back to the start state, untimed: the book as scored the night before."""
    db.session.execute(sa.delete(ChurnScoreDay.__table__).where(ChurnScoreDay.scored_on == TODAY))
    scoring.score_all(NIGHT_BEFORE)
    db.session.commit()
    settle()


def settle() -> None:
    if db.engine.dialect.name == "postgresql":
        maintenance("VACUUM ANALYZE customer, churn_score_day", "CHECKPOINT")
    else:
        maintenance("PRAGMA wal_checkpoint(TRUNCATE)")


def _one_round(result: BackendResult, floor_first: bool) -> None:
    for step in ("floor", "product") if floor_first else ("product", "floor"):
        if step == "floor":
            result.floor.append(time_floor())
            continue
        seconds, summary = time_product()
        result.product.append(seconds)
        if result.scored and summary.scored != result.scored:
            raise RuntimeError(f"scored {summary.scored} this round, {result.scored} before")
        result.scored, result.levels = summary.scored, summary.levels
        result.changed = summary.changed
        restore()


def measure(backend: str, count: int, repeat: int, warmup: int, log=print) -> BackendResult:
    result = BackendResult(backend, server_version(), count)
    started = time.perf_counter()
    scoring.score_all(NIGHT_BEFORE)
    db.session.commit()
    result.first_scoring = time.perf_counter() - started
    log(f"  first scoring of every customer: {result.first_scoring:.3f} s")
    settle()
    for _ in range(warmup):
        _one_round(BackendResult(backend, "", count), True)
    for round_number in range(repeat):
        _one_round(result, round_number % 2 == 0)
        log(
            f"  round {round_number + 1}: floor {result.floor[-1]:.3f} s, "
            f"churn-score {result.product[-1]:.3f} s"
        )
    return result


def bench_backend(
    backend: str, url: str, count: int, repeat: int, warmup: int, log=print
) -> BackendResult:
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        try:
            log(f"{backend}: loading {count:,} customers")
            prepare(count, log)
            history = add_history(log)
            result = measure(backend, count, repeat, warmup, log)
            result.history = history
            return result
        finally:
            db.session.remove()
            db.engine.dispose()


# --- reporting -----------------------------------------------------------------------------


def render_table(results: list[BackendResult]) -> str:
    lines = [
        "| backend | customers scored | scores changed | floor median s | churn-score median s "
        "| ratio | target | verdict | first scoring s |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.backend} | {r.scored} | {r.changed} | {r.floor_median:.3f} "
            f"| {r.product_median:.3f} | {r.ratio:.2f} | {TARGET:.1f} | {r.verdict} "
            f"| {r.first_scoring:.3f} |"
        )
    return "\n".join(lines)


def render_section(results: list[BackendResult], command: str) -> str:
    first = results[0]
    history = ", ".join(f"{table} {rows:,}" for table, rows in first.history.items())
    levels = ", ".join(f"{level} {n:,}" for level, n in sorted(first.levels.items()))
    runs = "\n".join(
        f"- {r.backend}: floor {', '.join(f'{s:.3f}' for s in r.floor)}; "
        f"churn-score {', '.join(f'{s:.3f}' for s in r.product)}"
        for r in results
    )
    return f"""{HEADING}

Requirement: at 1,000,000 customers, `flask crm churn-score` takes at most {TARGET:g}× a bare
SQL aggregate of the same signals in the same database, measured side by side in one run
(`bench/churn.py`; its docstring says why the comparison is fair).

- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC
- Machine: {machine({r.backend: r.version for r in results})}
- Customers: {first.customers:,}; history rows: {history}. Levels: {levels}.
- Floor: one SELECT of every signal's figure per customer, summed over the book.
  Product: `score_all`, what `flask crm churn-score` and the nightly job run (temporary
  tables, history and UPDATE of the customers whose score or level changed since the night
  before), committed. Medians of {len(first.floor)} runs each, alternating. The first
  scoring (every customer written, once, after loading) is in the last column, for scale.

{render_table(results)}

Every run, in seconds:

{runs}

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
    results = [bench_backend(b, url, count, repeat, warmup, log) for b, url in urls.items()]
    log(render_table(results))
    write_section(out, HEADING, render_section(results, command))
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args("bench.churn", __doc__, argv, {"customers": DEFAULT_CUSTOMERS})
    return run_on_throwaway_databases(
        args,
        lambda urls: run_benchmark(
            urls, args.customers, args.repeat, args.out, args.command, args.warmup
        ),
    )


if __name__ == "__main__":
    sys.exit(main())
