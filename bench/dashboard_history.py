"""The year of history ``bench/dashboard.py`` measures the dashboard over, drawn from each
customer's id so that it is the same on every backend and every run: 0–4 quadrant moves per
customer, one held experience each, a maturing participating policy with its recorded
call-back for one in ten, a complaint for one in a hundred."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from bench.bank import _load, _stored
from bench.common import maintenance
from bench.today import add_history
from crm.extensions import db
from crm.models import Customer

TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
QUADRANTS = ("develop", "maintain", "cultivate", "pamper")


def _spread(customer_id: int, salt: int, modulo: int) -> int:
    """A well-mixed number in [0, modulo) from the id (the same on every backend and run)."""
    return (customer_id * 2654435761 + salt * 40503) % 2**32 % modulo


def _moves(customers: list[tuple[int, str, int, int]], sqlite: bool) -> Iterator[tuple]:
    """0–4 moves per customer in the year, in time order, each from where the last left them."""
    for customer_id, quadrant, willingness, fen in customers:
        count = _spread(customer_id, 1, 5)
        days = sorted(_spread(customer_id, 10 + k, 360) for k in range(count))
        for k, back in enumerate(reversed(days)):
            target = QUADRANTS[
                (QUADRANTS.index(quadrant) + 1 + _spread(customer_id, 20 + k, 3)) % 4
            ]
            at = NOW - timedelta(days=back + 1, hours=k)
            assets = fen + 1_000_00 * _spread(customer_id, 30 + k, 20)
            yield (
                customer_id,
                quadrant,
                target,
                assets if sqlite else Decimal(assets).scaleb(-2),
                willingness,
                100_000_000 if sqlite else Decimal("1000000.00"),
                60,
                "experience",
                _stored(at, sqlite),
            )
            quadrant = target


EVENT_COLUMNS = (
    "customer_id, from_quadrant, to_quadrant, liquid_assets, willingness, capability_threshold, "
    "willingness_threshold, cause, at"
)


def _policies_and_callbacks(ids: list[int], sqlite: bool) -> tuple[Iterator, Iterator]:
    chosen = [i for i in ids if _spread(i, 40, 10) == 0]
    premium = 5_000_000 if sqlite else Decimal("50000.00")
    at = _stored(NOW, sqlite)

    def policies():
        for i in chosen:
            matures = TODAY - timedelta(days=_spread(i, 41, 360))
            yield (
                i,
                f"D{i:012d}",
                "鑫享两全保险（分红型）",
                "participating",
                premium,
                "single",
                date(2020, 1, 1),
                matures,
                "matured",
                1,
                at,
                at,
            )

    return chosen, policies()


def add_year(log=print) -> dict[str, int]:
    """The year of history above, for every customer; ANALYZE. Returns rows per table."""
    sqlite = db.engine.dialect.name == "sqlite"
    started = time.perf_counter()
    customers = db.session.execute(
        sa.select(
            Customer.id, Customer.quadrant, Customer.willingness, Customer.liquid_assets
        ).order_by(Customer.id)
    ).all()
    db.session.rollback()
    placed = [(i, q.value, w, int(a * 100)) for i, q, w, a in customers]
    _load("quadrant_event", EVENT_COLUMNS, _moves(placed, sqlite))
    rows = {"quadrant_event": _count("quadrant_event")}
    rows["experience"] = add_history(TODAY)
    ids = [i for i, *_ in placed]
    chosen, policies = _policies_and_callbacks(ids, sqlite)
    _load(
        "policy",
        "customer_id, policy_number, product_name, product_type, premium, payment_mode, "
        "start_date, maturity_date, status, version, created_at, updated_at",
        policies,
    )
    owner_of = dict(db.session.execute(sa.select(Customer.id, Customer.owner_id)).all())
    policy_of = dict(
        db.session.execute(
            sa.text("SELECT customer_id, id FROM policy WHERE policy_number LIKE 'D%'")
        ).all()
    )
    db.session.rollback()
    intents = ("renew", "renew", "new_policy", "deposit", "undecided")

    def callbacks():
        for i in chosen:
            matures = TODAY - timedelta(days=_spread(i, 41, 360))
            called = matures - timedelta(days=10)
            yield (
                policy_of[i],
                i,
                owner_of[i],
                matures,
                _stored(NOW - timedelta(days=400), sqlite),
                intents[_spread(i, 42, 5)],
                _stored(datetime(called.year, called.month, called.day, 3, tzinfo=UTC), sqlite),
                called,
                owner_of[i],
                1,
            )

    _load(
        "maturity_callback",
        "policy_id, customer_id, owner_id, maturity_date, created_at, intent, recorded_at, "
        "recorded_on, recorded_by_id, version",
        callbacks(),
    )
    rows["maturity_callback"] = len(chosen)

    def complaints():
        for i in ids:
            if _spread(i, 50, 100):
                continue
            opened = NOW - timedelta(days=1 + _spread(i, 51, 360))
            answered = None
            if _spread(i, 52, 10):
                answered = opened + timedelta(days=2 if _spread(i, 53, 10) else 9)
            yield (
                i,
                "满期收益低于预期",
                _stored(opened, sqlite),
                _stored(opened + timedelta(days=7), sqlite),
                _stored(answered, sqlite),
                None if answered is None else _spread(i, 54, 5) > 0,
                1,
            )

    _load(
        "complaint",
        "customer_id, point, opened_at, due_at, answered_at, satisfied, version",
        complaints(),
    )
    rows["complaint"] = _count("complaint")
    maintenance("ANALYZE")
    log(f"  a year of history in {time.perf_counter() - started:.1f} s: {rows}")
    return rows


def _count(table: str) -> int:
    count = db.session.scalar(sa.select(sa.func.count()).select_from(sa.table(table)))
    db.session.rollback()
    return count
