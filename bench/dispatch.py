"""Benchmark: the SMS dispatcher's bookkeeping, through the console provider.

What is measured. A bank of customers (``bench/bank.py``); 100,000 marketing SMS queued in
the outbox (two each for 50,000 customers who consented and did not opt out, each with its
planned routine contact), due now, inside the sending window. Timed with
``time.perf_counter``:

- the product: ``dispatch.dispatch(now)`` until the outbox is empty, what the scheduler's
  dispatch job runs: claim in batches and commit "sending", check consent, opt-out, window
  and the weekly cap, write each message to the console provider, record the provider's
  ids, close the planned contacts, commit;
- the floor: the same provider writing the same 100,000 messages, then one bare
  ``UPDATE outbox_message SET status = 'sent'`` of every row, committed: the provider's own
  work and the least bookkeeping a sender could do.

The requirement is a rate (at least 5,000 messages a second); the ratio to the floor is
reported beside it so that a slow, noisy machine can be told apart from a slow dispatcher.

Why it is fair. Both run on the same rows in the same database through the same app engine;
after each timed run the outbox and the contacts are set back to queued and planned and the
console file is emptied, untimed, and the database settled (VACUUM ANALYZE and CHECKPOINT on
PostgreSQL, a WAL checkpoint on SQLite). Floor and product alternate order per round.

Run: ``python -m bench.dispatch [--customers N] [--messages M] [--backends sqlite,postgresql]
[--repeat 3] [--warmup 1] [--out docs/performance.md]``.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from bench.bank import prepare
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
from crm.models import Customer, Experience, OutboxMessage
from crm.models.enums import ExperienceStatus, MessagePurpose, OutboxStatus, PlanOrigin
from crm.providers.console import ConsoleProvider
from crm.services.outreach.dispatch import dispatch

DEFAULT_CUSTOMERS = 120_000
DEFAULT_MESSAGES = 100_000
TARGET_RATE = 5_000  # messages a second
HEADING = "## SMS dispatcher bookkeeping"
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai: inside the window
BODY = (
    "【银保服务】张先生您好！理财小贴士：保障与储蓄合理搭配，家庭财务更安心。"
    "如需了解，欢迎随时联系您的客户经理。拒收请回复R"
)


@dataclass
class BackendResult:
    backend: str
    version: str
    messages: int
    floor: list[float] = field(default_factory=list)
    dispatch: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.messages / statistics.median(self.dispatch)

    @property
    def ratio(self) -> float:
        return statistics.median(self.dispatch) / statistics.median(self.floor)

    @property
    def verdict(self) -> str:
        return "meets" if self.rate >= TARGET_RATE else "misses"


def queue_messages(count: int) -> None:
    """``count`` queued SMS, two per reachable customer, each with its planned contact."""
    reachable = sa.select(Customer.id, Customer.phone).where(
        Customer.sms_consent.is_(True), Customer.sms_opt_out_at.is_(None)
    )
    customers = db.session.execute(reachable.order_by(Customer.id).limit((count + 1) // 2)).all()
    if len(customers) * 2 < count:
        raise SystemExit(f"only {len(customers)} reachable customers for {count} messages")
    experiences, messages = [], []
    for n in range(count):
        customer_id, phone = customers[n // 2]
        experiences.append(
            {
                "id": n + 1,
                "customer_id": customer_id,
                "category": "routine",
                "status": ExperienceStatus.PLANNED,
                "origin": PlanOrigin.CADENCE,
                # One due today, one yesterday (a day late): both still go out.
                "due_on": NOW.date() - timedelta(days=n % 2),
                "planned_cost": Decimal("0.10"),
                "created_at": NOW,
                "version": 1,
            }
        )
        messages.append(
            {
                "idempotency_key": f"experience:{n + 1}",
                "purpose": MessagePurpose.MARKETING,
                "channel": "sms",
                "customer_id": customer_id,
                "experience_id": n + 1,
                "recipient": phone,
                "template_key": "finance_idea",
                "body": BODY,
                "status": OutboxStatus.QUEUED,
                "not_before": NOW,
                "attempts": 0,
                "created_at": NOW,
            }
        )
    db.session.execute(sa.insert(Experience.__table__), experiences)
    db.session.execute(sa.insert(OutboxMessage.__table__), messages)
    db.session.commit()


def reset(console: ConsoleProvider) -> None:
    """Back to the start, untimed: everything queued and planned again, no file."""
    db.session.execute(
        sa.update(OutboxMessage.__table__).values(
            status=OutboxStatus.QUEUED.value,
            attempts=0,
            claimed_at=None,
            sent_at=None,
            provider=None,
            provider_message_id=None,
        )
    )
    db.session.execute(
        sa.update(Experience.__table__).values(
            status=ExperienceStatus.PLANNED.value, held_on=None, actual_cost=None
        )
    )
    db.session.commit()
    console.close()
    console.path.unlink(missing_ok=True)
    if db.engine.dialect.name == "postgresql":
        maintenance("VACUUM ANALYZE outbox_message, experience", "CHECKPOINT")
    else:
        maintenance("PRAGMA wal_checkpoint(TRUNCATE)")


def time_dispatch(console: ConsoleProvider, count: int) -> float:
    started = time.perf_counter()
    summary = dispatch(NOW, provider=console)
    elapsed = time.perf_counter() - started
    if summary.sent != count:
        raise SystemExit(f"dispatch sent {summary.sent} of {count}: {summary}")
    return elapsed


def time_floor(console: ConsoleProvider, count: int) -> float:
    rows = db.session.execute(
        sa.select(OutboxMessage.recipient, OutboxMessage.body, OutboxMessage.idempotency_key)
    ).all()
    db.session.commit()
    started = time.perf_counter()
    for recipient, body, key in rows:
        console.send(recipient, body, key)
    db.session.execute(sa.text("UPDATE outbox_message SET status = 'sent'"))
    db.session.commit()
    return time.perf_counter() - started


def measure(backend: str, url: str, customers: int, count: int, repeat: int, warmup: int, log):
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        try:
            log(f"{backend}: {customers:,} customers, {count:,} queued messages")
            prepare(customers, log)
            queue_messages(count)
            result = BackendResult(backend, server_version(), count)
            console = ConsoleProvider(Path(tempfile.mkdtemp(prefix="crm-sms-")) / "sms.jsonl")
            for n in range(warmup + repeat):
                order = (time_floor, time_dispatch) if n % 2 == 0 else (time_dispatch, time_floor)
                timed = {}
                for run in order:
                    timed[run] = run(console, count)
                    reset(console)
                if n >= warmup:
                    result.floor.append(timed[time_floor])
                    result.dispatch.append(timed[time_dispatch])
                log(
                    f"  round {n + 1}: floor {timed[time_floor]:.3f} s, "
                    f"dispatch {timed[time_dispatch]:.3f} s" + (" (warm-up)" if n < warmup else "")
                )
            return result
        finally:
            db.session.remove()
            db.engine.dispose()


def render_section(results: list[BackendResult], command: str) -> str:
    rows = "\n".join(
        f"| {r.backend} | {statistics.median(r.floor):.3f} | {statistics.median(r.dispatch):.3f} "
        f"| {r.ratio:.2f} | {r.rate:,.0f} | ≥ {TARGET_RATE:,} | {r.verdict} |"
        for r in results
    )
    runs = "\n".join(
        f"- {r.backend}: floor {', '.join(f'{s:.3f}' for s in r.floor)}; "
        f"dispatch {', '.join(f'{s:.3f}' for s in r.dispatch)}"
        for r in results
    )
    return f"""{HEADING}

Requirement: the dispatcher's bookkeeping through the console provider handles at least
{TARGET_RATE:,} messages a second with {results[0].messages:,} queued (`bench/dispatch.py`;
its docstring says what is timed and why the comparison is fair).

- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC
- Machine: {machine({r.backend: r.version for r in results})}
- Queue: {results[0].messages:,} marketing SMS, two each for customers with consent, due
  now inside the window, each with its planned routine contact.
- Floor: the console provider writing the same messages, then one bare
  `UPDATE outbox_message SET status = 'sent'`, committed. Dispatch: `dispatch.dispatch(now)`
  until the outbox is empty, committed. Medians of {len(results[0].dispatch)} runs each,
  alternating, each from the same start state.

| backend | floor median s | dispatch median s | ratio | messages/s | target | verdict |
|---|---:|---:|---:|---:|---:|---|
{rows}

Every run, in seconds:

{runs}

Rerun: `{command}`
"""


def run_benchmark(urls, customers, count, repeat, out, command, warmup=1, log=print):
    results = [measure(b, u, customers, count, repeat, warmup, log) for b, u in urls.items()]
    section = render_section(results, command)
    log(section)
    write_section(out, HEADING, section)
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(
        "bench.dispatch",
        __doc__,
        argv,
        {"customers": DEFAULT_CUSTOMERS, "messages": DEFAULT_MESSAGES},
    )
    return run_on_throwaway_databases(
        args,
        lambda urls: run_benchmark(
            urls, args.customers, args.messages, args.repeat, args.out, args.command, args.warmup
        ),
    )


if __name__ == "__main__":
    sys.exit(main())
