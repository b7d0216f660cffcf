"""The manager's team page and a handover at bank scale.

The bank is `bench/bank.py`'s, dealt among 500 relationship managers in 10 branches (50 a
branch, 100,000 customers a branch at a million), as `bench/web.py` deals it. Its first
branch (``manager01``'s) is then given a month of work, set-based: one experience per
customer due within twenty days either side of today (a third held, the rest planned, so a
tenth or so overdue), an open complaint for one customer in 100 (half overdue), a maturing
policy and its call-back for one in 50 (a quarter recorded today), high churn risk for one in
10, and a sign-in for every staff member.

Measured, in the test client (routing, session, queries, template): ``/team`` for
``manager01``, target p95 ≤ 100 ms at 1,000,000 customers.

Handover: ``bench`` is first given ``HANDOVER`` customers (100,000, or half a smaller bank),
then two things are timed alternately, each committed and each undone untimed afterwards:

- the floor: one bare ``UPDATE customer SET owner_id = …`` of the same rows and one
  ``INSERT … SELECT`` of their audit rows (one a customer), nothing else;
- the product: ``crm.services.management.handover.hand_over`` as ``flask crm handover``
  runs it (the open work counted, open call-backs moved, the customers' owner, branch and
  version, their audit rows, the handover's own, both staff notified).

The figure is the ratio of the medians, product / floor; the target is 2×.

Run: `.venv/bin/python -m bench.team --customers 1000000`.
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa

from bench.common import machine, maintenance, parse_args, run_on_throwaway_databases, write_section
from bench.lists import as_a_new_request, log_in, percentile, verdict
from bench.team_branch import give_the_branch_a_month, insert_from_select
from bench.web import BRANCHES, OWNERS, add_floors, load_bank
from crm import create_app
from crm.core.clock import local_today
from crm.extensions import db
from crm.models import (
    AuditLog,
    Customer,
    MaturityCallback,
    Notification,
    Staff,
)
from crm.models.base import utcnow
from crm.services.management import handover

HEADING = "## Team page and handover"
DEFAULT_CUSTOMERS = 1_000_000
SAMPLES = 100
TEAM_P95_TARGET_MS = 100.0
HANDOVER = 100_000
TARGET = 2.0


@dataclass
class TeamResult:
    backend: str
    version: str
    customers: int
    branch_customers: int = 0
    team_ms: list[float] = field(default_factory=list)
    team_statements: int = 0
    handed: int = 0
    floor_s: list[float] = field(default_factory=list)
    product_s: list[float] = field(default_factory=list)

    @property
    def team_p95(self) -> float:
        return percentile(self.team_ms, 0.95)

    @property
    def ratio(self) -> float:
        return statistics.median(self.product_s) / statistics.median(self.floor_s)

    @property
    def verdict(self) -> str:
        return verdict(self.ratio <= TARGET)


def measure_team(app, result: TeamResult, samples: int, log) -> None:
    client = app.test_client()
    log_in(client, "manager01")
    as_a_new_request()
    assert client.get("/team").status_code == 200  # warm
    for _ in range(samples):
        as_a_new_request()
        started = time.perf_counter()
        response = client.get("/team")
        result.team_ms.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    seen: list[str] = []

    def count(*args) -> None:
        seen.append(args[2])

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        as_a_new_request()
        client.get("/team")
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    result.team_statements = len(seen)
    log(
        f"  /team ({result.branch_customers:,} customers in the branch): p50 "
        f"{statistics.median(result.team_ms):.1f} ms, p95 {result.team_p95:.1f} ms, "
        f"{result.team_statements} statements"
    )


def _settle(backend: str) -> None:
    if backend == "postgresql":
        maintenance(
            "VACUUM ANALYZE customer",
            "VACUUM ANALYZE experience",
            "VACUUM ANALYZE audit_log",
            "CHECKPOINT",
        )
    else:
        db.session.execute(sa.text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.session.commit()


def _undo(giver: Staff, receiver: Staff, audit_from: int) -> None:
    """Back as before a timed run: the customers and open call-backs the giver's again, the
    run's audit rows and notifications gone (untimed)."""
    moved = sa.select(AuditLog.customer_id).where(
        AuditLog.id > audit_from, AuditLog.entity == "customer"
    )
    db.session.execute(
        sa.update(MaturityCallback)
        .where(MaturityCallback.customer_id.in_(moved), MaturityCallback.recorded_at.is_(None))
        .values(owner_id=giver.id)
    )
    db.session.execute(
        sa.update(Customer)
        .where(Customer.id.in_(moved))
        .values(owner_id=giver.id, branch_id=giver.branch_id)
    )
    db.session.execute(sa.delete(AuditLog).where(AuditLog.id > audit_from))
    db.session.execute(sa.delete(Notification))
    db.session.commit()


def _floor(giver: Staff, receiver: Staff) -> None:
    """The bare UPDATE of the same rows and their audit rows, INSERT … SELECT."""
    now = sa.literal(utcnow(), AuditLog.at.type)
    insert_from_select(
        AuditLog.__table__,
        [
            "at",
            "entity",
            "entity_id",
            "customer_id",
            "action",
            "field",
            "old_value",
            "new_value",
            "version",
        ],
        sa.select(
            now,
            sa.literal("customer"),
            Customer.id,
            Customer.id,
            sa.literal("update"),
            sa.literal("owner_id"),
            sa.literal(str(giver.id)),
            sa.literal(str(receiver.id)),
            Customer.version + 1,
        ).where(Customer.owner_id == giver.id),
    )
    db.session.execute(
        sa.update(Customer)
        .where(Customer.owner_id == giver.id)
        .values(owner_id=receiver.id, version=Customer.version + 1)
    )
    db.session.commit()


def measure_handover(backend: str, result: TeamResult, repeat: int, warmup: int, log) -> None:
    giver = db.session.scalars(sa.select(Staff).where(Staff.username == "bench")).one()
    receiver = db.session.scalars(
        sa.select(Staff).where(Staff.branch_id == giver.branch_id, Staff.id != giver.id)
    ).first()
    wanted = min(HANDOVER, result.customers // 2)
    others = (
        sa.select(Customer.id)
        .where(Customer.owner_id != giver.id)
        .order_by(Customer.id)
        .limit(max(0, wanted - _owned(giver)))
        .scalar_subquery()
    )
    db.session.execute(
        sa.update(Customer)
        .where(Customer.id.in_(others))
        .values(owner_id=giver.id, branch_id=giver.branch_id)
    )
    db.session.commit()
    result.handed = _owned(giver)
    giver_id, receiver_id = giver.id, receiver.id

    def product() -> None:
        handover.hand_over(
            None, db.session.get(Staff, giver_id), db.session.get(Staff, receiver_id)
        )
        db.session.commit()

    def floor() -> None:
        _floor(db.session.get(Staff, giver_id), db.session.get(Staff, receiver_id))

    for n in range(warmup + repeat):
        order = [("floor", floor), ("product", product)]
        if n % 2:
            order.reverse()
        for name, run in order:
            _settle(backend)
            audit_from = db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(AuditLog.id), 0)))
            started = time.perf_counter()
            run()
            elapsed = time.perf_counter() - started
            _undo(db.session.get(Staff, giver_id), db.session.get(Staff, receiver_id), audit_from)
            if n >= warmup:
                (result.floor_s if name == "floor" else result.product_s).append(elapsed)
    log(
        f"  handover of {result.handed:,} customers: floor median "
        f"{statistics.median(result.floor_s):.2f} s, handover median "
        f"{statistics.median(result.product_s):.2f} s, ratio {result.ratio:.2f}× "
        f"(target ≤ {TARGET:g}×)"
    )


def _owned(staff: Staff) -> int:
    return db.session.scalar(sa.select(sa.func.count()).where(Customer.owner_id == staff.id))


def bench_backend(
    backend: str, url: str, count: int, repeat: int, warmup: int, samples: int, log=print
) -> TeamResult:
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    add_floors(app)
    with app.app_context():
        try:
            loaded = load_bank(backend, count, log)
            result = TeamResult(backend, loaded.version, count)
            manager = db.session.scalars(
                sa.select(Staff).where(Staff.username == "manager01")
            ).one()
            started = time.perf_counter()
            result.branch_customers = give_the_branch_a_month(manager.branch_id, local_today())
            if backend == "postgresql":
                maintenance("VACUUM ANALYZE")
            else:
                db.session.execute(sa.text("ANALYZE"))
                db.session.commit()
            log(f"  the branch's month of work in {time.perf_counter() - started:.1f} s")
            measure_team(app, result, samples, log)
            measure_handover(backend, result, repeat, warmup, log)
            return result
        finally:
            db.session.remove()
            db.engine.dispose()


def summary_rows(results: list[TeamResult]) -> list[tuple[str, str, str, str, str]]:
    rows = []
    for r in results:
        rows += [
            (
                f"/team p95, a branch of {r.branch_customers:,} customers",
                r.backend,
                f"≤ {TEAM_P95_TARGET_MS:g} ms",
                f"{r.team_p95:.1f} ms",
                verdict(r.team_p95 <= TEAM_P95_TARGET_MS),
            ),
            (
                f"handover of {r.handed:,} customers vs bare UPDATE + audit rows",
                r.backend,
                f"≤ {TARGET:g}×",
                f"{r.ratio:.2f}×",
                r.verdict,
            ),
        ]
    return rows


def render_section(results: list[TeamResult], command: str, samples: int) -> str:
    first = results[0]
    lines = [
        "| backend | /team p50 ms | /team p95 ms (≤ 100) | verdict | statements "
        "| customers handed over | floor median s | handover median s | ratio (≤ 2×) | verdict |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.backend} | {statistics.median(r.team_ms):.1f} | {r.team_p95:.1f} "
            f"| {verdict(r.team_p95 <= TEAM_P95_TARGET_MS)} | {r.team_statements} "
            f"| {r.handed:,} | {statistics.median(r.floor_s):.2f} "
            f"| {statistics.median(r.product_s):.2f} | {r.ratio:.2f}× | {r.verdict} |"
        )
    table = "\n".join(lines)
    return f"""{HEADING}

Requirement: the team page p95 ≤ 100 ms at 1,000,000 customers, and a handover of 100,000
customers at most 2× a bare `UPDATE` of the same rows plus their audit rows (`bench/team.py`;
its docstring says what the bank holds and what is measured).

- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC
- Machine: {machine({r.backend: r.version for r in results})}
- Customers: {first.customers:,} among {OWNERS} staff in {BRANCHES} branches;
  `manager01`'s branch: {first.branch_customers:,} customers, a month of work given to it.
- {samples} samples of `/team` in the test client; the handover and its floor alternate,
  each committed and undone untimed, medians compared.

{table}

The team page counts each staff member's visits, events and services as one range of the
index `ix_experience_owner_id_status_due_on_category` (migration 0025: each experience's own
staff member, kept by the database), read alone, never a row of `experience` and never the
customers: its time follows the branch's experiences of this week and month, not the size
of its book. The other statements are an index range each (call-backs by who recorded them,
complaints and churn risk by owner, sessions by staff).
The handover's floor writes the audit rows with one
`INSERT … SELECT`; the handover returns the moved ids and writes theirs by COPY (PostgreSQL)
or executemany (SQLite), and also counts and moves the open work and notifies both. Both
run on the same schema, so both pay migration 0025's trigger, which moves each customer's
planned experiences to the new owner: the floor's bare `UPDATE` fires it as any change of
owner does.

Rerun: `{command}`
"""


def run_benchmark(
    urls: dict[str, str],
    count: int,
    repeat: int,
    out,
    command: str,
    warmup: int = 1,
    samples: int = SAMPLES,
) -> list[TeamResult]:
    results = [bench_backend(b, url, count, repeat, warmup, samples) for b, url in urls.items()]
    write_section(out, HEADING, render_section(results, command, samples))
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args("bench.team", __doc__, argv, {"customers": DEFAULT_CUSTOMERS})
    return run_on_throwaway_databases(
        args,
        lambda urls: run_benchmark(
            urls, args.customers, args.repeat, args.out, args.command, args.warmup
        ),
    )


if __name__ == "__main__":
    sys.exit(main())
