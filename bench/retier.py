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

import argparse
import contextlib
import inspect
import math
import os
import platform
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from crm import create_app
from crm.extensions import db
from crm.models import Branch, Customer, QuadrantEvent, Staff
from crm.models.enums import BranchStage, MoveCause, Role
from crm.services.tiering import Thresholds, quadrant_case, retier_all

BACKENDS = ("sqlite", "postgresql")
DEFAULT_CUSTOMERS = 1_000_000
DEFAULTS = Thresholds(Decimal("1000000"), 60)
NEW = Thresholds(Decimal("500000"), 50)
TARGET = 1.3
CHUNK = inspect.signature(retier_all).parameters["chunk"].default  # what the CLI uses
HEADING = "## Re-tier after a threshold change"
SEED = 20261123
MEDIAN_ASSETS_FEN = 400_000 * 100
# ln(1,000,000 / 400,000) / 0.6745 (the upper quartile of a standard normal): P(≥ ¥1M) ≈ 25%.
ASSETS_SIGMA = 1.36
BATCH = 50_000
CREATED_FROM = datetime(2025, 1, 1, tzinfo=UTC)
FILE_HEADER = """# Performance

Benchmarks of the CRM at bank scale, written by the scripts under `bench/`. Machines are
shared and noisy, so no figure here stands alone: each is a ratio against a floor (the
cheapest statement that does the same work by hand) measured in the same run, in the same
database, side by side.

Rerun them all with `make bench`, which rewrites the sections below; run one at another
size with `.venv/bin/python -m bench.retier --customers N`.
"""

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


# --- loading -------------------------------------------------------------------------------


def _customer_rows(count: int, sqlite: bool) -> Iterator[tuple]:
    """The same customers on every backend (seeded), in each backend's storage units."""
    rng = random.Random(SEED)
    genders = ("female", "male", "unspecified")
    risks = ("R1", "R2", "R3", "R4", "R5")
    for n in range(1, count + 1):
        fen = round(MEDIAN_ASSETS_FEN * math.exp(ASSETS_SIGMA * rng.gauss(0.0, 1.0)))
        created = CREATED_FROM + timedelta(seconds=30 * n)
        phone = f"+86138{n:08d}"
        yield (
            f"客户{n:07d}",
            genders[n % 3],
            phone,
            phone[-4:],
            fen if sqlite else Decimal(fen).scaleb(-2),
            rng.randint(0, 100),
            risks[rng.randrange(5)],
            n % 2 == 0,
            created.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else created,
        )


CUSTOMER_COLUMNS = (
    "name, gender, phone, phone_last4, liquid_assets, willingness, risk_level, sms_consent, "
    "created_at, updated_at, quadrant, owner_id, branch_id, version"
)


def _load_customers(count: int, owner_id: int, branch_id: int) -> None:
    """Tuples in batches, no ORM: executemany on SQLite, COPY on PostgreSQL (where
    executemany manages only some 5,000 rows a second)."""
    sqlite = db.engine.dialect.name == "sqlite"
    rows = (
        (*row, row[-1], "develop", owner_id, branch_id, 1) for row in _customer_rows(count, sqlite)
    )
    if not sqlite:
        _copy_rows(rows)
        return
    sql = f"INSERT INTO customer ({CUSTOMER_COLUMNS}) VALUES ({', '.join(['?'] * 14)})"
    batch: list[tuple] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            _insert_batch(sql, batch)
            batch = []
    if batch:
        _insert_batch(sql, batch)


def _insert_batch(sql: str, batch: list[tuple]) -> None:
    with db.engine.begin() as conn:
        conn.exec_driver_sql(sql, batch)


def _copy_rows(rows: Iterator[tuple]) -> None:
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy(f"COPY customer ({CUSTOMER_COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.close()
        raw.commit()
    finally:
        raw.close()


def _place_under_defaults() -> int:
    """Set every quadrant with the rule's CASE under the defaults; returns rows changed."""
    default = quadrant_case(DEFAULTS)
    result = db.session.execute(
        sa.update(customer).where(customer.c.quadrant != default).values(quadrant=default)
    )
    db.session.commit()
    return result.rowcount


def _write_first_placements() -> None:
    """One first-placement event per customer, as migration 0002 writes for existing ones."""
    c = customer.c
    db.session.execute(
        sa.insert(events).from_select(
            [
                "customer_id",
                "from_quadrant",
                "to_quadrant",
                "liquid_assets",
                "willingness",
                "capability_threshold",
                "willingness_threshold",
                "cause",
                "actor_id",
                "at",
            ],
            sa.select(
                c.id,
                sa.null(),
                c.quadrant,
                c.liquid_assets,
                c.willingness,
                sa.literal(DEFAULTS.capability, events.c.capability_threshold.type),
                sa.literal(DEFAULTS.willingness),
                sa.literal(MoveCause.IMPORT.value),
                sa.null(),
                c.created_at,
            ),
        )
    )
    db.session.commit()


def _maintenance(*statements: str) -> None:
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)


def prepare(count: int, log=print) -> None:
    """Migrate, then one branch, one staff member and ``count`` placed customers; ANALYZE."""
    from flask_migrate import upgrade

    upgrade()
    branch = Branch(name="基准支行", stage=BranchStage.MATURE)
    staff = Staff(
        username="bench", display_name="Bench", role=Role.STAFF, branch=branch, password_hash="!"
    )
    db.session.add_all([branch, staff])
    db.session.commit()
    started = time.perf_counter()
    _load_customers(count, staff.id, branch.id)
    log(f"  loaded {count:,} customers in {time.perf_counter() - started:.1f} s")
    _place_under_defaults()
    _write_first_placements()
    if db.engine.dialect.name == "postgresql":
        # The placing UPDATE left a dead copy of most rows; start from a packed table.
        _maintenance("VACUUM FULL customer", "VACUUM ANALYZE customer, quadrant_event")
    else:
        _maintenance("ANALYZE")
    log(f"  placed and analysed in {time.perf_counter() - started:.1f} s")


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
    _place_under_defaults()
    db.session.execute(sa.delete(events).where(events.c.id > last_event_id))
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        _maintenance("VACUUM ANALYZE customer, quadrant_event", "CHECKPOINT")
    else:
        _maintenance("PRAGMA wal_checkpoint(TRUNCATE)")
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
    result = BackendResult(backend, _server_version(), count, floor_statement=floor_sql())
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


def _server_version() -> str:
    if db.engine.dialect.name == "postgresql":
        return db.session.scalar(sa.text("SHOW server_version")).split()[0]
    return db.session.scalar(sa.text("SELECT sqlite_version()"))


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


def _machine(results: list[BackendResult]) -> str:
    versions = {r.backend: r.version for r in results}
    return (
        f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"SQLite {versions.get('sqlite', 'not measured')}, "
        f"PostgreSQL {versions.get('postgresql', 'not measured')}"
    )


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
- Machine: {_machine(results)}
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


def write_section(path: Path, section: str) -> None:
    """Replace this benchmark's section of the report (or add it), keeping the others."""
    text = path.read_text(encoding="utf-8") if path.exists() else FILE_HEADER
    pattern = re.compile(rf"^{re.escape(HEADING)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: section.rstrip("\n") + "\n\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


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
    write_section(out, render_section(results, command))
    return results


# --- command line --------------------------------------------------------------------------


@contextlib.contextmanager
def throwaway_database(backend: str) -> Iterator[str]:
    """A URL to an empty database that is gone afterwards."""
    if backend == "sqlite":
        folder = tempfile.mkdtemp(prefix="crm-bench-")
        try:
            yield f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    from tests.support.pgserver import PostgresServer

    server = PostgresServer().start()
    try:
        yield server.url
    finally:
        server.stop()


def _backends(value: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = sorted(set(names) - set(BACKENDS))
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(BACKENDS)}")
    return names


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.retier", description=__doc__)
    parser.add_argument("--customers", type=int, default=DEFAULT_CUSTOMERS)
    parser.add_argument("--backends", type=_backends, default=list(BACKENDS))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first")
    parser.add_argument("--out", type=Path, default=Path("docs/performance.md"))
    args = parser.parse_args(argv)
    if args.customers < 1 or args.repeat < 1 or args.warmup < 0:
        parser.error("--customers and --repeat must be at least 1, --warmup at least 0")
    return args


def _command(args: argparse.Namespace) -> str:
    return (
        f".venv/bin/python -m bench.retier --customers {args.customers} "
        f"--backends {','.join(args.backends)} --repeat {args.repeat} "
        f"--warmup {args.warmup} --out {args.out}"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with contextlib.ExitStack() as stack:
        urls = {b: stack.enter_context(throwaway_database(b)) for b in args.backends}
        run_benchmark(urls, args.customers, args.repeat, args.out, _command(args), args.warmup)
    print(f"Wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
