"""Benchmark: a branch's pipeline board and its funnel for a year, against the bare SQL.

What is measured. The bank of ``bench/web.py`` (N customers, default 1,000,000, dealt among
500 relationship managers in 10 branches) with opportunities (商机) for three customers in
ten open (300,000 at a million: 40% leads, 25% needs analysis, 20% proposals, 15% closing)
and one in ten closed (half won, half lost from a stage drawn evenly), opened over the last
year, the same on every backend (drawn from each customer's id). Then, for a branch manager
(the branch drawn at random each sample), timed with ``time.perf_counter``:

- the board: ``pipeline.board(manager)``, what ``/pipeline`` renders (the stage
  probabilities, the totals per stage, the first 25 cards per stage with their customers'
  and products' names), against its floor, the same two statements as bare SQL text run on
  the same connection, rows fetched as tuples;
- the funnel for a year: ``funnel.funnel(manager, Jan 1, Dec 31, "owner")``, what
  ``/pipeline/funnel`` renders, against the same grouped statement as bare SQL text.

Why it is fair. The same tables, indexes, connection and branches, floor and product in
turns, after an untimed warm-up of each. The figures are the p95 of each (targets: board
≤ 50 ms, funnel ≤ 300 ms) and the ratio of the medians, product / floor.

Run: ``python -m bench.pipeline [--customers N] [--backends sqlite,postgresql]
[--repeat 3] [--warmup 1] [--out docs/performance.md]`` (``--repeat`` rounds of 40 samples).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from bench.bank import _load, _stored
from bench.common import (
    machine,
    maintenance,
    parse_args,
    run_on_throwaway_databases,
    server_version,
    write_section,
)
from bench.lists import percentile, verdict
from bench.web import load_bank
from crm import create_app
from crm.core.clock import local_today
from crm.extensions import db
from crm.models import Customer, Product, Staff
from crm.models.enums import Role
from crm.services.sales import funnel, pipeline

DEFAULT_CUSTOMERS = 1_000_000
BOARD_TARGET_MS = 50.0
FUNNEL_TARGET_MS = 300.0
SAMPLES = 40
HEADING = "## Pipeline board and funnel"
OPEN = ("lead",) * 8 + ("needs",) * 5 + ("proposal",) * 4 + ("closing",) * 3

BOARD_SQL = """
SELECT stage, count(*), coalesce(sum(expected_premium), 0) FROM opportunity
WHERE branch_id = :branch AND stage IN ('lead', 'needs', 'proposal', 'closing')
GROUP BY stage
"""
CARDS_SQL = (
    "SELECT o.id, o.stage, o.customer_id, o.expected_premium, o.payment_mode, "
    "o.expected_close_on, o.version, c.name, p.name, p.risk_level FROM opportunity o "
    "JOIN ("
    + " UNION ALL ".join(
        f"SELECT * FROM (SELECT id FROM opportunity WHERE branch_id = :branch AND stage = '{s}' "
        "ORDER BY expected_close_on, id LIMIT 25) AS s_" + s
        for s in ("lead", "needs", "proposal", "closing")
    )
    + ") AS chosen ON chosen.id = o.id JOIN customer c ON c.id = o.customer_id "
    "JOIN product p ON p.id = o.product_id ORDER BY o.stage, o.expected_close_on, o.id"
)
FUNNEL_SQL = """
SELECT owner_id,
  CASE WHEN stage = 'lost' THEN CASE lost_from WHEN 'lead' THEN 0 WHEN 'needs' THEN 1
    WHEN 'proposal' THEN 2 ELSE 3 END
  ELSE CASE stage WHEN 'lead' THEN 0 WHEN 'needs' THEN 1 WHEN 'proposal' THEN 2
    WHEN 'closing' THEN 3 ELSE 4 END END AS furthest,
  stage, payment_mode, count(*), coalesce(sum(expected_premium), 0),
  coalesce(sum(CASE WHEN closed_on IS NOT NULL THEN {days} END), 0)
FROM opportunity
WHERE branch_id = :branch AND opened_on BETWEEN :start AND :end
GROUP BY owner_id, furthest, stage, payment_mode
"""


@dataclass
class BackendResult:
    backend: str
    version: str
    customers: int
    opportunities: dict[str, int] = field(default_factory=dict)
    board: list[float] = field(default_factory=list)
    board_floor: list[float] = field(default_factory=list)
    funnel: list[float] = field(default_factory=list)
    funnel_floor: list[float] = field(default_factory=list)
    load: float = 0.0  # the machine's 1-minute load average when measured

    def p95(self, name: str) -> float:
        return percentile(getattr(self, name), 0.95) * 1000

    def ratio(self, name: str) -> float:
        return statistics.median(getattr(self, name)) / statistics.median(
            getattr(self, name + "_floor")
        )

    def verdict(self, name: str) -> str:
        target = BOARD_TARGET_MS if name == "board" else FUNNEL_TARGET_MS
        return verdict(self.p95(name) <= target)


def _opportunities(owners: list[tuple[int, int, int]], product: int, today: date, sqlite: bool):
    """Each customer's opportunities, drawn from a random source seeded by their id."""
    at = _stored(datetime(2026, 11, 23, 4, tzinfo=UTC), sqlite)
    for customer, owner, branch in owners:
        rng = random.Random(customer)
        draws = [rng.random() < 0.3, rng.random() < 0.1]
        for closed, wanted in ((False, draws[0]), (True, draws[1])):
            if not wanted:
                continue
            opened = today - timedelta(days=rng.randrange(365))
            yuan = 10_000 * rng.randint(1, 20)
            premium = yuan * 100 if sqlite else Decimal(yuan)
            mode = "regular" if rng.random() < 0.6 else "single"
            close = opened + timedelta(days=rng.randint(30, 120))
            lost_from, closed_on = None, None
            if not closed:
                stage = rng.choice(OPEN)
            elif rng.random() < 0.5:
                stage, closed_on = "won", opened + timedelta(days=rng.randint(5, 60))
            else:
                stage, lost_from = "lost", rng.choice(OPEN)
                closed_on = opened + timedelta(days=rng.randint(5, 60))
            yield (
                *(customer, owner, branch, product, premium, mode, stage, lost_from),
                *(opened, close, closed_on, "other", 1, at, at),
            )


def add_opportunities(log=print) -> dict[str, int]:
    sqlite = db.engine.dialect.name == "sqlite"
    owners = db.session.execute(sa.select(Customer.id, Customer.owner_id, Customer.branch_id))
    owners = [tuple(r) for r in owners]
    product = db.session.scalar(sa.select(sa.func.min(Product.id)))
    db.session.rollback()
    started = time.perf_counter()
    _load(
        "opportunity",
        "customer_id, owner_id, branch_id, product_id, expected_premium, payment_mode, stage, "
        "lost_from, opened_on, expected_close_on, closed_on, source, version, created_at, "
        "updated_at",
        _opportunities(owners, product, local_today(), sqlite),
    )
    if db.engine.dialect.name == "postgresql":
        # Set the visibility map, so that the board's totals are read from the index alone.
        maintenance("VACUUM ANALYZE opportunity")
    else:
        maintenance("ANALYZE")
    counts = dict(
        db.session.execute(sa.text("SELECT stage, count(*) FROM opportunity GROUP BY stage")).all()
    )
    db.session.rollback()
    log(f"  opportunities {counts} in {time.perf_counter() - started:.1f} s")
    return counts


def _timed(call) -> float:
    started = time.perf_counter()
    call()
    db.session.rollback()  # the end of a request: its read transaction too
    return time.perf_counter() - started


def measure(result: BackendResult, repeat: int, warmup: int, log=print) -> None:
    managers = list(db.session.scalars(sa.select(Staff).where(Staff.role == Role.MANAGER)))
    today = local_today()
    start, end = date(today.year - 1, today.month, today.day), today
    days = (
        "julianday(closed_on) - julianday(opened_on)"
        if db.engine.dialect.name == "sqlite"
        else "closed_on - opened_on"
    )
    funnel_sql = sa.text(FUNNEL_SQL.format(days=days))
    rng = random.Random(7)

    def sample(record: bool) -> None:
        manager = rng.choice(managers)
        bind = {"branch": manager.branch_id}
        steps = [
            ("board", lambda: pipeline.board(manager)),
            (
                "board_floor",
                lambda: (
                    db.session.execute(sa.text(BOARD_SQL), bind).all(),
                    db.session.execute(sa.text(CARDS_SQL), bind).all(),
                ),
            ),
            ("funnel", lambda: funnel.funnel(manager, start, end, "owner")),
            (
                "funnel_floor",
                lambda: db.session.execute(funnel_sql, bind | {"start": start, "end": end}).all(),
            ),
        ]
        if rng.random() < 0.5:
            steps.reverse()
        for name, call in steps:
            seconds = _timed(call)
            if record:
                getattr(result, name).append(seconds)

    for _ in range(warmup * 5):
        sample(False)
    for round_number in range(repeat):
        for _ in range(SAMPLES):
            sample(True)
        board_floor = percentile(result.board_floor, 0.95) * 1000
        funnel_floor = percentile(result.funnel_floor, 0.95) * 1000
        log(
            f"  round {round_number + 1}: board p95 {result.p95('board'):.1f} ms "
            f"(floor {board_floor:.1f}), funnel p95 {result.p95('funnel'):.1f} ms "
            f"(floor {funnel_floor:.1f})"
        )


def bench_backend(backend: str, url: str, count: int, repeat: int, warmup: int, log=print):
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        try:
            loaded = load_bank(backend, count, log)
            result = BackendResult(backend, server_version(), loaded.customers)
            result.opportunities = add_opportunities(log)
            measure(result, repeat, warmup, log)
            result.load = os.getloadavg()[0]
            return result
        finally:
            db.session.remove()
            db.engine.dispose()


def render_table(results: list[BackendResult]) -> str:
    lines = [
        "| backend | page | floor p50 ms | product p50 ms | ratio | product p95 ms | target "
        "| verdict |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        for name, what, target in (
            ("board", "a branch's board", BOARD_TARGET_MS),
            ("funnel", "a branch's funnel for a year", FUNNEL_TARGET_MS),
        ):
            floor = statistics.median(getattr(r, name + "_floor")) * 1000
            product = statistics.median(getattr(r, name)) * 1000
            lines.append(
                f"| {r.backend} | {what} | {floor:.1f} | {product:.1f} | {r.ratio(name):.2f} "
                f"| {r.p95(name):.1f} | ≤ {target:.0f} ms | {r.verdict(name)} |"
            )
    return "\n".join(lines)


def render_section(results: list[BackendResult], command: str) -> str:
    first = results[0]
    counts = ", ".join(f"{stage} {n:,}" for stage, n in sorted(first.opportunities.items()))
    loads = ", ".join(f"{r.backend} {r.load:.1f}" for r in results)
    scale = (
        ""
        if first.customers >= DEFAULT_CUSTOMERS
        else f"\n  A development run, a tenth of the requirement's bank or less: a branch holds "
        f"{first.customers // 10:,} customers here, not 100,000."
    )
    return f"""{HEADING}

Requirement: at 1,000,000 customers with 300,000 open opportunities, a branch's pipeline
board p95 ≤ {BOARD_TARGET_MS:.0f} ms and the funnel for a year p95 ≤ {FUNNEL_TARGET_MS:.0f} ms,
with ratios against the bare SQL of the same statements (`bench/pipeline.py`; its docstring
says why the comparison is fair).

- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC
- Machine: {machine({r.backend: r.version for r in results})}
- Customers: {first.customers:,} in 10 branches; opportunities by stage: {counts}.{scale}
- The machine's load average (1 min) when measured: {loads}, on its {os.cpu_count()} CPUs.
- Product: `pipeline.board(manager)` and `funnel.funnel(manager, a year, "owner")`, what the
  pages render; floor: the same statements as SQL text, rows fetched as tuples.

{render_table(results)}

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


def summary_rows(results: list[BackendResult]) -> list[tuple[str, str, str, str, str]]:
    return [
        (
            f"{what} p95 (ratio to bare SQL {r.ratio(name):.2f}×)",
            r.backend,
            f"≤ {target:.0f} ms",
            f"{r.p95(name):.1f} ms",
            r.verdict(name),
        )
        for r in results
        for name, what, target in (
            ("board", "a branch's pipeline board", BOARD_TARGET_MS),
            ("funnel", "a branch's funnel for a year", FUNNEL_TARGET_MS),
        )
    ]


def main(argv: list[str] | None = None) -> int:
    args = parse_args("bench.pipeline", __doc__, argv, {"customers": DEFAULT_CUSTOMERS})
    return run_on_throwaway_databases(
        args,
        lambda urls: run_benchmark(
            urls, args.customers, args.repeat, args.out, args.command, args.warmup
        ),
    )


if __name__ == "__main__":
    sys.exit(main())
