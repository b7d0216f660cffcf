"""A synthetic bank for the benchmarks: many customers, loaded fast, placed in quadrants.

Rows are tuples in large batches, never the ORM per row: executemany on SQLite, COPY on
PostgreSQL. The customers are the same on every backend (seeded): liquid assets log-normal
around ¥400,000 (about a quarter at ¥1,000,000 or more), willingness uniform 0–100, placed
under the default thresholds with one first-placement event each, as migration 0002 does.
Half of them agreed to SMS (even ids) and one in ten of those has since opted out, so 45%
can be sent routine SMS.

Names are Chinese: a surname of the demo's hundred-odd (`crm.services.simulation.people`),
about as common as in China (王 7%, then 李, 张, 刘, … down to a quarter of a percent), and a
given name of one or two of its characters; each with its pinyin and initials as the app
spells them. They are drawn from a random source of their own, so the assets and the
willingness stay what they were before customers had names.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from bench.common import maintenance
from crm.extensions import db
from crm.models import Branch, Customer, QuadrantEvent, Staff
from crm.models.enums import BranchStage, MoveCause, Role
from crm.models.spelling import spell
from crm.services.customers.tiering import Thresholds, insert_events, quadrant_case
from crm.services.simulation.people import GIVEN, SURNAMES

DEFAULTS = Thresholds(Decimal("1000000"), 60)
SEED = 20261123
MEDIAN_ASSETS_FEN = 400_000 * 100
# ln(1,000,000 / 400,000) / 0.6745 (the upper quartile of a standard normal): P(≥ ¥1M) ≈ 25%.
ASSETS_SIGMA = 1.36
BATCH = 50_000
CREATED_FROM = datetime(2025, 1, 1, tzinfo=UTC)
OPTED_OUT_AFTER = timedelta(days=90)

customer = Customer.__table__
events = QuadrantEvent.__table__


def _stored(moment: datetime | None, sqlite: bool) -> datetime | str | None:
    """A UTC timestamp as each backend stores it (SQLite: naive text)."""
    if moment is None or not sqlite:
        return moment
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


# The n-th most common surname is drawn in proportion to 1 / (n + 3): 王 7.3%, the tenth 2.3%,
# the last 0.3%, near China's census shares.
SURNAME_WEIGHTS = [1 / (rank + 3) for rank in range(1, len(SURNAMES) + 1)]


def names(count: int) -> Iterator[str]:
    """``count`` Chinese names, the same on every backend and every run."""
    rng = random.Random(SEED + 1)
    surnames = rng.choices(SURNAMES, weights=SURNAME_WEIGHTS, k=count)
    for surname in surnames:
        yield surname + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))


def _customer_rows(count: int, sqlite: bool) -> Iterator[tuple]:
    """The same customers on every backend (seeded), in each backend's storage units."""
    rng = random.Random(SEED)
    drawn = names(count)
    genders = ("female", "male", "unspecified")
    risks = ("R1", "R2", "R3", "R4", "R5")
    for n in range(1, count + 1):
        fen = round(MEDIAN_ASSETS_FEN * math.exp(ASSETS_SIGMA * rng.gauss(0.0, 1.0)))
        created = CREATED_FROM + timedelta(seconds=30 * n)
        phone = f"+86138{n:08d}"
        # Drawn from n, not from rng, so the assets and willingness stay as they were.
        consent = n % 2 == 0
        opted_out = created + OPTED_OUT_AFTER if n % 20 == 0 else None
        name = next(drawn)
        yield (
            name,
            *spell(name),
            genders[n % 3],
            phone,
            phone[-4:],
            fen if sqlite else Decimal(fen).scaleb(-2),
            rng.randint(0, 100),
            risks[rng.randrange(5)],
            consent,
            _stored(created if consent else None, sqlite),
            _stored(opted_out, sqlite),
            _stored(created, sqlite),
        )


CUSTOMER_COLUMNS = (
    "name, name_pinyin, name_initials, gender, phone, phone_last4, liquid_assets, willingness, "
    "risk_level, sms_consent, sms_consent_at, sms_opt_out_at, created_at, updated_at, quadrant, "
    "owner_id, branch_id, version"
)


def _load_customers(count: int, owners: list[tuple[int, int]]) -> None:
    """Customers dealt to ``owners`` ((staff id, branch id) pairs) in turn."""
    sqlite = db.engine.dialect.name == "sqlite"
    rows = (
        (*row, row[-1], "develop", *owners[n % len(owners)], 1)
        for n, row in enumerate(_customer_rows(count, sqlite))
    )
    _load("customer", CUSTOMER_COLUMNS, rows)


def _load(table: str, columns: str, rows: Iterator[tuple]) -> None:
    """Tuples in batches, no ORM: executemany on SQLite, COPY on PostgreSQL (where
    executemany manages only some 5,000 rows a second)."""
    if db.engine.dialect.name != "sqlite":
        _copy_rows(table, columns, rows)
        return
    marks = ", ".join(["?"] * len(columns.split(",")))
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
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


def _copy_rows(table: str, columns: str, rows: Iterator[tuple]) -> None:
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.close()
        raw.commit()
    finally:
        raw.close()


POLICY_COLUMNS = (
    "customer_id, policy_number, product_name, product_type, premium, payment_mode, "
    "start_date, status, version, created_at, updated_at"
)


def policy_number(customer_id: int) -> str:
    return f"P2025{customer_id:010d}"


def holds_policy(customer_id: int, every: int, firsts: int) -> bool:
    """One customer in ``every``, spread over the staff they are dealt to (a multiplicative
    hash of the id, so not every ``every``-th id, which would favour some staff), and the
    first ``firsts`` customers (each staff member's first, so that everyone has one)."""
    return customer_id <= firsts or customer_id * 2654435761 % 2**32 % every == 0


def add_policies(every: int, firsts: int) -> int:
    """A policy (``policy_number(id)``) for the customers that ``holds_policy``; how many.
    ANALYZE."""
    sqlite = db.engine.dialect.name == "sqlite"
    low, high = db.session.execute(
        sa.select(sa.func.min(customer.c.id), sa.func.max(customer.c.id))
    ).one()
    db.session.rollback()
    start = CREATED_FROM.date()
    premium = 1_000_000 if sqlite else Decimal("10000.00")  # fen on SQLite
    at = _stored(CREATED_FROM, sqlite)
    ids = [i for i in range(low, high + 1) if holds_policy(i, every, firsts)]
    rows = (
        (
            i,
            policy_number(i),
            "鑫享年金",
            "annuity",
            premium,
            "regular",
            start,
            "in_force",
            1,
            at,
            at,
        )
        for i in ids
    )
    _load("policy", POLICY_COLUMNS, rows)
    maintenance("ANALYZE policy")
    return len(ids)


def place_under_defaults() -> int:
    """Set every quadrant with the rule's CASE under the defaults; returns rows changed."""
    default = quadrant_case(DEFAULTS)
    result = db.session.execute(
        sa.update(customer).where(customer.c.quadrant != default).values(quadrant=default)
    )
    db.session.commit()
    return result.rowcount


def _write_first_placements() -> None:
    """One first-placement event per customer, as migration 0002 writes for existing ones."""
    insert_events(
        sa.true(),
        source=None,
        target=Customer.quadrant,
        thresholds=DEFAULTS,
        cause=MoveCause.IMPORT,
        actor_id=None,
        at=Customer.created_at,
    )
    db.session.commit()


# Birthdays (for the benchmarks that plan occasions): born from 1940 over 65 years, spread by
# id with a prime step, so the same on every backend; one customer in ten keeps the birthday
# by the lunar calendar, on a lunar day up to the 29th (which every lunar month has).
BORN_FROM = "1940-01-01"
BORN_SPAN_DAYS = 65 * 365
BORN_STEP = 7919
LUNAR_EVERY = 10


def add_birthdays() -> int:
    """Give every customer a birth date, and one in ten a lunar birthday; returns rows set.
    Then settle the table as ``prepare`` leaves it."""
    # The id is reduced first, so the product stays inside PostgreSQL's integer at any size.
    offset = (customer.c.id % BORN_SPAN_DAYS) * BORN_STEP % BORN_SPAN_DAYS
    if db.engine.dialect.name == "sqlite":
        born = sa.func.date(BORN_FROM, "+" + sa.cast(offset, sa.String) + " days")
    else:
        born = sa.cast(sa.literal(BORN_FROM), sa.Date) + offset
    lunar = customer.c.id % LUNAR_EVERY == 3
    result = db.session.execute(
        sa.update(customer).values(
            birth_date=born,
            birthday_is_lunar=lunar,
            lunar_birth_month=sa.case((lunar, customer.c.id * 31 % 12 + 1)),
            lunar_birth_day=sa.case((lunar, customer.c.id * 17 % 29 + 1)),
            lunar_birth_leap=sa.case((lunar, sa.false())),
        )
    )
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        maintenance("VACUUM FULL customer", "VACUUM ANALYZE customer")
    else:
        maintenance("ANALYZE")
    return result.rowcount


def prepare(count: int, log=print, *, owners: int = 1, branches: int = 1) -> None:
    """Migrate, then ``branches`` branches (each with a manager), ``owners`` staff members
    dealt among them, and ``count`` placed customers dealt among the staff; ANALYZE.

    The first staff member is ``bench`` (as with one owner); the others ``bench0002``…, the
    managers ``manager01``…; none can log in until a benchmark sets a password.
    """
    from flask_migrate import upgrade

    upgrade()
    offices = [
        Branch(name="基准支行" if b == 0 else f"基准支行{b + 1:02d}", stage=BranchStage.MATURE)
        for b in range(branches)
    ]
    staff = [
        Staff(
            username="bench" if n == 0 else f"bench{n + 1:04d}",
            display_name=f"Bench {n + 1}",
            role=Role.STAFF,
            branch=offices[n % branches],
            password_hash="!",
        )
        for n in range(owners)
    ]
    managers = [
        Staff(
            username=f"manager{b + 1:02d}",
            display_name=f"Manager {b + 1}",
            role=Role.MANAGER,
            branch=office,
            password_hash="!",
        )
        for b, office in enumerate(offices)
    ]
    db.session.add_all([*offices, *staff, *managers])
    db.session.commit()
    started = time.perf_counter()
    _load_customers(count, [(s.id, s.branch_id) for s in staff])
    log(f"  loaded {count:,} customers in {time.perf_counter() - started:.1f} s")
    place_under_defaults()
    _write_first_placements()
    if db.engine.dialect.name == "postgresql":
        # The placing UPDATE left a dead copy of most rows; start from a packed table.
        maintenance("VACUUM FULL customer", "VACUUM ANALYZE customer, quadrant_event")
    else:
        maintenance("ANALYZE")
    log(f"  placed and analysed in {time.perf_counter() - started:.1f} s")
