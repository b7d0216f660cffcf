"""Benchmark: a month's three reports for a branch of 50,000 customers, each rendered whole,
against the time its notebook's cells take to execute.

What is measured. One branch of N customers (default 50,000; the synthetic bank of
``bench/bank.py``, opened through 2025, dealt among 20 relationship managers) with a month
of history (November 2026), the same on every backend (seeded): one customer in ten moves
once to another quadrant, for a cause drawn from the causes; two held experiences per
customer (routine most, then visits, events, premium events, lifestyle, bespoke) with their
costs; a policy for one customer in twenty, maturing in the month, with its call-back (nine
in ten recorded, an intent drawn from the intents); a complaint for one customer in two
hundred, opened in the month, most answered. Timed with ``time.perf_counter``, for each of
``migration``, ``effectiveness`` and ``followup``:

- the product: what ``flask crm report <name> --branch`` and the ``monthly_reports`` job
  do: a fresh kernel, every cell executed, the HTML written (``analytics.report.render``'s
  steps), in Chinese;
- the floor: the notebook's cells alone, the sum of each code cell's execution time as the
  kernel reports it (from its ``execute_input`` to its ``execute_reply``): loading the
  frames, computing, drawing; without starting the kernel or writing the page.

The target is the issue's: each report in under a minute. The ratio product / floor says
what the kernel and the page add to the work itself.

Run: ``python -m bench.reports [--customers N] [--backends sqlite,postgresql] [--repeat 1]
[--warmup 0] [--out docs/performance.md]``. It starts a throwaway SQLite file and PostgreSQL
server, prints the table and writes its section of the report.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from analytics import report
from bench.bank import DEFAULTS, add_policies, policy_number, prepare
from bench.common import (
    machine,
    parse_args,
    run_on_throwaway_databases,
    server_version,
    write_section,
)
from crm import create_app
from crm.extensions import db
from crm.models import Complaint, Customer, Experience, MaturityCallback, Policy, QuadrantEvent
from crm.models.enums import (
    CallbackIntent,
    ExperienceStatus,
    MoveCause,
    PlanOrigin,
    Quadrant,
    Touchpoint,
)

DEFAULT_CUSTOMERS = 50_000
TARGET_SECONDS = 60.0
HEADING = "## Monthly reports for a branch"
BRANCH = "基准支行"
START, END = date(2026, 11, 1), date(2026, 11, 30)
KINDS = ("migration", "effectiveness", "followup")
SEED = 2026_11
BATCH = 10_000
CATEGORIES = (
    (Touchpoint.ROUTINE, 70, Decimal("0.10")),
    (Touchpoint.VISIT, 20, Decimal("80.00")),
    (Touchpoint.EVENT, 6, Decimal("150.00")),
    (Touchpoint.PREMIUM_EVENT, 2, Decimal("2000.00")),
    (Touchpoint.LIFESTYLE, 1.5, Decimal("5000.00")),
    (Touchpoint.BESPOKE, 0.5, Decimal("20000.00")),
)


@dataclass
class Result:
    backend: str
    version: str
    customers: int
    history: dict[str, int]
    product: dict[str, list[float]] = field(default_factory=dict)
    floor: dict[str, list[float]] = field(default_factory=dict)

    def median(self, kind: str) -> float:
        return statistics.median(self.product[kind])

    def ratio(self, kind: str) -> float:
        return self.median(kind) / statistics.median(self.floor[kind])

    def verdict(self, kind: str) -> str:
        return "meets" if self.median(kind) < TARGET_SECONDS else "misses"

    @property
    def worst(self) -> str:
        return max(KINDS, key=self.median)


def _moment(day: date, rng: random.Random) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
        seconds=rng.randrange(1, 86_000)
    )


def _day(rng: random.Random) -> date:
    return START + timedelta(days=rng.randrange((END - START).days + 1))


def _insert(table: sa.Table, rows: list[dict]) -> None:
    for start in range(0, len(rows), BATCH):
        db.session.execute(table.insert(), rows[start : start + BATCH])
    db.session.commit()


def add_history(log=print) -> dict[str, int]:
    """November's moves, experiences, call-backs and complaints (see the module's doc)."""
    rng = random.Random(SEED)
    people = db.session.execute(
        sa.select(Customer.id, Customer.quadrant, Customer.owner_id, Customer.liquid_assets)
    ).all()
    quadrants = list(Quadrant)
    causes = [c for c in MoveCause if c != MoveCause.IMPORT]
    moves, experiences = [], []
    for customer_id, quadrant, owner_id, assets in people:
        if rng.random() < 0.1:
            target = rng.choice([q for q in quadrants if q != quadrant])
            moves.append(
                {
                    "customer_id": customer_id,
                    "from_quadrant": quadrant,
                    "to_quadrant": target,
                    "liquid_assets": assets,
                    "willingness": rng.randrange(101),
                    "capability_threshold": DEFAULTS.capability,
                    "willingness_threshold": DEFAULTS.willingness,
                    "cause": rng.choice(causes),
                    "at": _moment(_day(rng), rng),
                }
            )
        picks = rng.choices(
            [(c, cost) for c, _, cost in CATEGORIES], [w for _, w, _ in CATEGORIES], k=2
        )
        for half, (category, cost) in enumerate(picks):  # one in each half of the month
            held = START + timedelta(days=15 * half + rng.randrange(15))
            experiences.append(
                {
                    "customer_id": customer_id,
                    "owner_id": owner_id,
                    "category": category,
                    "status": ExperienceStatus.DONE,
                    "origin": PlanOrigin.CADENCE,
                    "due_on": held,
                    "held_on": held,
                    "planned_cost": cost,
                    "actual_cost": cost,
                    "recorded_at": _moment(held, rng),
                }
            )
    _insert(QuadrantEvent.__table__, moves)
    _insert(Experience.__table__, experiences)
    log(f"  {len(moves):,} moves, {len(experiences):,} experiences")

    policies = add_policies(every=20, firsts=0)
    by_number = dict(db.session.execute(sa.select(Policy.policy_number, Policy.id)).all())
    callbacks, complaints = [], []
    intents = list(CallbackIntent)
    for customer_id, _quadrant, owner_id, _assets in people:
        policy_id = by_number.get(policy_number(customer_id))
        if policy_id is not None:
            matures = _day(rng)
            recorded = rng.random() < 0.9
            callbacks.append(
                {
                    "policy_id": policy_id,
                    "customer_id": customer_id,
                    "owner_id": owner_id,
                    "maturity_date": matures,
                    "intent": rng.choice(intents) if recorded else None,
                    "recorded_on": matures if recorded else None,
                    "created_at": _moment(START - timedelta(days=20), rng),
                }
            )
        if rng.random() < 0.005:
            opened = _moment(_day(rng), rng)
            answered = rng.random() < 0.85
            complaints.append(
                {
                    "customer_id": customer_id,
                    "point": "服务态度",
                    "opened_at": opened,
                    "due_at": opened + timedelta(days=7),
                    "answered_at": opened + timedelta(days=rng.randrange(1, 10))
                    if answered
                    else None,
                    "satisfied": rng.random() < 0.8 if answered else None,
                }
            )
    _insert(MaturityCallback.__table__, callbacks)
    _insert(Complaint.__table__, complaints)
    log(f"  {policies:,} policies, {len(callbacks):,} call-backs, {len(complaints):,} complaints")
    return {
        "quadrant moves": len(moves),
        "experiences": len(experiences),
        "call-backs": len(callbacks),
        "complaints": len(complaints),
    }


def cells_seconds(notebook) -> float:
    """The code cells' execution time as the kernel reported it."""
    total = 0.0
    for cell in notebook.cells:
        timing = cell.get("metadata", {}).get("execution", {})
        began, ended = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
        if cell.cell_type == "code" and began and ended:
            total += (_stamp(ended) - _stamp(began)).total_seconds()
    return total


def _stamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def render_once(kind: str, url: str, folder: Path) -> tuple[float, float]:
    """(whole render s, cells alone s) of one report: ``report.render``'s steps, timed."""
    started = time.perf_counter()
    path = report.notebook_path(kind)
    parameters = report.parameters(url, START, END, BRANCH, "zh_CN")
    notebook = report.execute(path, parameters)
    html = report.to_html(notebook, report.title(kind, START, END, "zh_CN"))
    (folder / f"{kind}.html").write_text(html, encoding="utf-8")
    return time.perf_counter() - started, cells_seconds(notebook)


def bench_backend(backend: str, url: str, count: int, repeat: int, warmup: int, log) -> Result:
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        try:
            log(f"{backend}: loading {count:,} customers")
            prepare(count, log, owners=20)
            history = add_history(log)
            version = server_version()
        finally:
            db.session.remove()
            db.engine.dispose()
    result = Result(backend, version, count, history)
    # The kernel reads the database with the testing settings, as the app that loaded it.
    previous = os.environ.get("CRM_CONFIG")
    os.environ["CRM_CONFIG"] = "testing"
    try:
        with tempfile.TemporaryDirectory(prefix="crm-reports-") as folder:
            for kind in KINDS:
                for _ in range(warmup):
                    render_once(kind, url, Path(folder))
                for _ in range(repeat):
                    whole, cells = render_once(kind, url, Path(folder))
                    result.product.setdefault(kind, []).append(whole)
                    result.floor.setdefault(kind, []).append(cells)
                    log(f"{backend}: {kind} {whole:.1f} s (cells {cells:.1f} s)")
    finally:
        if previous is None:
            os.environ.pop("CRM_CONFIG", None)
        else:
            os.environ["CRM_CONFIG"] = previous
    return result


# --- reporting -----------------------------------------------------------------------------


def render_table(results: list[Result]) -> str:
    lines = [
        "| backend | report | customers | cells alone median s | whole report median s "
        "| ratio | target s | verdict |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        for kind in KINDS:
            lines.append(
                f"| {r.backend} | {kind} | {r.customers:,} "
                f"| {statistics.median(r.floor[kind]):.1f} | {r.median(kind):.1f} "
                f"| {r.ratio(kind):.2f} | < {TARGET_SECONDS:.0f} | {r.verdict(kind)} |"
            )
    return "\n".join(lines)


def render_section(results: list[Result], command: str) -> str:
    first = results[0]
    history = ", ".join(f"{name} {rows:,}" for name, rows in first.history.items())
    versions = {r.backend: r.version for r in results}
    return "\n".join(
        [
            HEADING,
            "",
            f"- Run: `{command}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine(versions)}",
            f"- One branch of {first.customers:,} customers, November 2026: {history}.",
            "- Each report rendered whole (a fresh kernel, every cell, the page written) "
            "against its cells alone (their execution as the kernel reports it); the target "
            "is under a minute per report.",
            "",
            render_table(results),
            "",
        ]
    )


def run_benchmark(
    urls: dict[str, str],
    count: int,
    repeat: int,
    out: Path,
    command: str,
    warmup: int = 0,
    log=print,
) -> list[Result]:
    results = [bench_backend(b, url, count, repeat, warmup, log) for b, url in urls.items()]
    log(render_table(results))
    write_section(out, HEADING, render_section(results, command))
    return results


def summary_rows(results: list[Result]) -> list[tuple[str, str, str, str, str]]:
    return [
        (
            f"{kind} report, one branch of {r.customers:,} customers, one month",
            r.backend,
            f"< {TARGET_SECONDS:.0f} s",
            f"{r.median(kind):.1f} s ({r.ratio(kind):.2f}× cells)",
            r.verdict(kind),
        )
        for r in results
        for kind in KINDS
    ]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(
        "bench.reports", __doc__, argv, {"customers": DEFAULT_CUSTOMERS}, backends=("sqlite",)
    )
    return run_on_throwaway_databases(
        args,
        lambda urls: run_benchmark(
            urls, args.customers, args.repeat, args.out, args.command, args.warmup
        ),
    )


if __name__ == "__main__":
    sys.exit(main())
