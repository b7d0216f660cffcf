"""Benchmark: an experiment's report and its assignment at bank scale.

What is measured, on each backend (SQLite, PostgreSQL), on a synthetic bank (``bench.bank``)
of N customers (default 1,000,000) placed in quadrants, with ten held experiences each
(10,000,000 at a million: the category, the date and the cost varied), a policy for one
customer in twenty and an experiment covering every quadrant with a 20% holdout:

- assignment: ``crm.services.experiments.assignment.assign_at_start`` giving every customer
  an arm, stratified by quadrant and branch, committed; against the floor, the same rows
  written by ``crm.core.bulk.insert`` (COPY on PostgreSQL, executemany on SQLite) and
  committed. The rows are deleted (untimed) before each timed write;
- the report: ``crm.services.experiments.analysis.report`` after the horizon (every
  metric's sums per arm, the cost per arm, the balance table, the counts and the
  contamination); against the floor, DuckDB computing the same per-arm aggregates (every
  metric's count, sum and sum of squares, the cost of the experiences in the window, the
  covariates per arm) with group-bys over the same rows held in memory as pandas frames,
  read out of the database before the clock starts. The two must agree on the counts and
  sums (checked on every run). What was spent on each customer is kept on the assignment
  by the database as experiences are written (migration ``0026_experiment_spent``), and
  where each customer stands today as dossiers change (``0027_experiment_standing``), so the
  report reads the assignments where the floor joins every experience and every customer;
- what keeping it costs the writes: one held experience for each of up to 100,000 of the
  experiment's customers, written by ``crm.core.bulk.insert`` and committed, while the
  experiment runs (the triggers add each cost to the customer's assignment); against the
  floor, the same rows written as planned experiences, which the triggers pass over. There
  is no target: the figure says what a write pays for the report's speed;
- what keeping where each customer stands costs a dossier change: the willingness of up to
  100,000 of the experiment's customers changed in one statement and committed (the
  trigger of migration ``0027_experiment_standing`` copies each onto the assignment);
  against the floor, the same statement with the trigger off. No target either.

Why it is fair. Each pair runs side by side in the same process, alternating which goes
first, after an untimed warm-up; the figure is the ratio of the medians, product / floor;
the target is 2×. The DuckDB floor does not read the database at all, so it is the
strictest floor there is for the report.

Run: ``python -m bench.experiments [--customers N] [--backends sqlite,postgresql]
[--repeat 3] [--warmup 1] [--out docs/performance.md]``.
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from bench.bank import _load, _stored, add_policies, prepare
from bench.common import (
    maintenance,
    parse_args,
    run_on_throwaway_databases,
    server_version,
    side_by_side,
    write_section,
)
from bench.experiment_floor import check_same, read_frames, time_floor
from bench.experiment_writes import measure_writes
from crm import create_app
from crm.extensions import db

DEFAULT_CUSTOMERS = 1_000_000
EXPERIENCES_EACH = 10
TARGET = 2.0
HEADING = "## Experiment report and assignment"
START = date(2026, 1, 5)
HORIZON = 90
END = START + timedelta(days=HORIZON)
CATEGORIES = (("visit", 8000), ("event", 15000), ("routine", 10), ("premium_event", 200000))

EXPERIENCE_COLUMNS = (
    "customer_id, category, status, origin, due_on, held_on, planned_cost, actual_cost, "
    "response, created_at, recorded_at, version"
)


def add_experiences(each: int) -> int:
    """``each`` held experiences per customer over the half year around the start, ten
    days apart, their cost in each backend's unit (fen on SQLite)."""
    sqlite = db.engine.dialect.name == "sqlite"
    low, high = db.session.execute(sa.text("SELECT min(id), max(id) FROM customer")).one()
    db.session.rollback()
    at = _stored(datetime(2025, 12, 1, tzinfo=UTC), sqlite)
    first = START - timedelta(days=60)

    def rows():
        for customer_id in range(low, high + 1):
            for k in range(each):
                category, fen = CATEGORIES[(customer_id + k) % len(CATEGORIES)]
                day = first + timedelta(days=(customer_id % 7) + 10 * k + (k % 3))
                cost = fen if sqlite else Decimal(fen).scaleb(-2)
                yield (
                    customer_id, category, "done", "staff", day, day, cost, cost,
                    "positive", at, at, 1,
                )  # fmt: skip

    _load("experience", EXPERIENCE_COLUMNS, rows())
    maintenance("ANALYZE experience" if not sqlite else "ANALYZE")
    return (high - low + 1) * each


def create_experiment():
    from crm.services.experiments import design

    experiment = design.create_experiment(
        None,
        {
            "name": "基准实验",
            "category": "visit",
            "quadrants": "develop,maintain,cultivate,pamper",
            "holdout_share": "0.20",
            "metric": "upward_move",
            "horizon_days": HORIZON,
        },
    )
    db.session.commit()
    return experiment


# --- assignment ----------------------------------------------------------------------------


ASSIGNMENT_NAMES = [
    "experiment_id", "customer_id", "arm", "quadrant", "branch_id", "liquid_assets",
    "willingness", "age", "assigned_on", "spent", "quadrant_now", "willingness_now", "lost_on",
]  # fmt: skip


def _clear(experiment_id: int) -> None:
    from crm.models.experiment import ExperimentAssignment

    db.session.execute(
        sa.delete(ExperimentAssignment).where(ExperimentAssignment.experiment_id == experiment_id)
    )
    db.session.commit()


def time_assignment(experiment) -> tuple[float, int]:
    from crm.services.experiments import assignment

    _clear(experiment.id)
    experiment.started_on = START  # as a start sets it before assigning (its window's start)
    started = time.perf_counter()
    assigned = assignment.assign_at_start(experiment, START)
    db.session.commit()
    return time.perf_counter() - started, assigned


def read_assignments(experiment_id: int) -> list[tuple]:
    """The rows the product wrote, as tuples for the floor to write again."""
    from crm.models.experiment import ExperimentAssignment as A

    columns = [getattr(A, name) for name in ASSIGNMENT_NAMES]
    rows = db.session.execute(sa.select(*columns).where(A.experiment_id == experiment_id)).all()
    db.session.rollback()
    return [tuple(r) for r in rows]


def time_bulk_insert(experiment_id: int, rows: list[tuple]) -> float:
    from crm.core import bulk
    from crm.models.experiment import ExperimentAssignment

    _clear(experiment_id)
    started = time.perf_counter()
    bulk.insert(ExperimentAssignment.__table__, ASSIGNMENT_NAMES, rows)
    db.session.commit()
    return time.perf_counter() - started


# --- the report ----------------------------------------------------------------------------


def start_running(experiment_id: int) -> None:
    db.session.execute(
        sa.text("UPDATE experiment SET status = 'running', started_on = :d WHERE id = :i"),
        {"d": START, "i": experiment_id},
    )
    db.session.commit()


def time_report(experiment_id: int):
    from crm.services.experiments import analysis, design

    db.session.expire_all()
    experiment = design.get_experiment(experiment_id)
    started = time.perf_counter()
    report = analysis.report(experiment, END)
    seconds = time.perf_counter() - started
    db.session.rollback()
    return seconds, report


# --- one backend ---------------------------------------------------------------------------


@dataclass
class BackendResult:
    backend: str
    version: str
    customers: int
    experiences: int = 0
    assigned: int = 0
    assign: list[float] = field(default_factory=list)
    bulk: list[float] = field(default_factory=list)
    report: list[float] = field(default_factory=list)
    duckdb: list[float] = field(default_factory=list)
    written: int = 0
    held: list[float] = field(default_factory=list)
    planned: list[float] = field(default_factory=list)
    changed: int = 0
    standing: list[float] = field(default_factory=list)
    standing_off: list[float] = field(default_factory=list)

    @property
    def assign_ratio(self) -> float:
        return statistics.median(self.assign) / statistics.median(self.bulk)

    @property
    def write_ratio(self) -> float:
        return statistics.median(self.held) / statistics.median(self.planned)

    @property
    def standing_ratio(self) -> float:
        return statistics.median(self.standing) / statistics.median(self.standing_off)

    @property
    def report_ratio(self) -> float:
        return statistics.median(self.report) / statistics.median(self.duckdb)

    @staticmethod
    def verdict_of(ratio: float) -> str:
        return "meets" if ratio <= TARGET else "misses"


def measure(backend: str, count: int, repeat: int, warmup: int, log=print) -> BackendResult:
    result = BackendResult(backend, server_version(), count)
    result.experiences = add_experiences(EXPERIENCES_EACH)
    add_policies(20, 1)
    log(f"  {result.experiences:,} experiences and the policies loaded")
    experiment = create_experiment()
    experiment_id = experiment.id
    _, result.assigned = time_assignment(experiment)
    rows = read_assignments(experiment_id)
    bulk = (lambda: time_bulk_insert(experiment_id, rows), result.bulk)
    assign = (
        lambda: time_assignment(db.session.get(type(experiment), experiment_id))[0],
        result.assign,
    )
    for round_number in range(warmup + repeat):
        timed = round_number >= warmup
        side_by_side(round_number, timed, bulk, assign)
        if timed:
            log(
                f"  assignment round: bulk {result.bulk[-1]:.3f} s, "
                f"product {result.assign[-1]:.3f} s"
            )
    maintenance("ANALYZE")
    start_running(experiment_id)
    frames = read_frames(experiment_id)
    scale = 100 if backend == "sqlite" else 1
    read: dict = {}

    def floor() -> float:
        seconds, read["answers"] = time_floor(frames, START, END)
        return seconds

    def product() -> float:
        seconds, read["report"] = time_report(experiment_id)
        return seconds

    for round_number in range(warmup + repeat):
        timed = round_number >= warmup
        side_by_side(round_number, timed, (floor, result.duckdb), (product, result.report))
        check_same(read["report"], read["answers"], scale)
        if timed:
            log(
                f"  report round: DuckDB {result.duckdb[-1]:.3f} s, "
                f"report {result.report[-1]:.3f} s"
            )
    day = START + timedelta(days=1)  # within the window
    measure_writes(result, experiment_id, day, EXPERIENCE_COLUMNS, repeat, warmup, log)
    return result


def bench_backend(backend: str, url: str, count: int, repeat: int, warmup: int, log=print):
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
        "| backend | measure | floor median s | product median s | ratio | target | verdict |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.backend} | assignment of {r.assigned:,} customers vs bulk insert "
            f"| {statistics.median(r.bulk):.3f} | {statistics.median(r.assign):.3f} "
            f"| {r.assign_ratio:.2f} | {TARGET:.1f} | {r.verdict_of(r.assign_ratio)} |"
        )
        lines.append(
            f"| {r.backend} | report over {r.experiences:,} experiences vs DuckDB group-by "
            f"| {statistics.median(r.duckdb):.3f} | {statistics.median(r.report):.3f} "
            f"| {r.report_ratio:.2f} | {TARGET:.1f} | {r.verdict_of(r.report_ratio)} |"
        )
        lines.append(
            f"| {r.backend} | {r.written:,} held experiences written while it runs vs the same "
            f"rows planned | {statistics.median(r.planned):.3f} | {statistics.median(r.held):.3f} "
            f"| {r.write_ratio:.2f} | none | what the kept sums cost a write |"
        )
        lines.append(
            f"| {r.backend} | {r.changed:,} dossiers' willingness changed vs the same without "
            f"the trigger | {statistics.median(r.standing_off):.3f} "
            f"| {statistics.median(r.standing):.3f} | {r.standing_ratio:.2f} | none "
            f"| what keeping each customer's standing costs a dossier change |"
        )
    return "\n".join(lines)


def render_section(results: list[BackendResult], command: str) -> str:
    def listed(values: list[float]) -> str:
        return ", ".join(f"{s:.3f}" for s in values)

    runs = "\n".join(
        f"- {r.backend}: assignment {listed(r.assign)}; bulk insert {listed(r.bulk)}; "
        f"report {listed(r.report)}; DuckDB {listed(r.duckdb)}; "
        f"held experiences written {listed(r.held)}; planned {listed(r.planned)}; "
        f"dossiers changed {listed(r.standing)}; without the trigger {listed(r.standing_off)}"
        for r in results
    )
    first = results[0]
    return f"""{HEADING}

Requirement (issue 19): the report over 1,000,000 customers and 10,000,000 experiences takes
at most {TARGET:g}× a DuckDB group-by of the same per-arm aggregates, and assigning 1,000,000
customers at the start at most {TARGET:g}× a bulk insert of the same rows, each measured side
by side in one run (`bench/experiments.py`; its docstring says why the comparison is fair).

Measured at {first.customers:,} customers and {first.experiences:,} experiences, on
{datetime.now(UTC):%Y-%m-%d %H:%M} UTC.

{render_table(results)}

Timed runs (seconds):

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
    args = parse_args("bench.experiments", __doc__, argv, {"customers": DEFAULT_CUSTOMERS})
    return run_on_throwaway_databases(
        args,
        lambda urls: run_benchmark(
            urls, args.customers, args.repeat, args.out, args.command, args.warmup
        ),
    )


if __name__ == "__main__":
    sys.exit(main())
