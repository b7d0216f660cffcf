"""Benchmark: importing a bank's customer list, against a bulk insert of the rows it writes.

What is measured. A CSV file of N customers (default 100,000; UTF-8 with a byte-order mark
and Chinese headers, as Excel saves "CSV UTF-8": name, mobile, gender, birth date, liquid
assets log-normal around ¥400,000, willingness 0–100, risk level, acquisition channel as
its Chinese label, owner among ten relationship managers of the branch, tags on about a
third, SMS consent, an e-mail address on one in four) is imported by the branch manager
into a CRM that already holds M customers (default 100,000, ``bench/bank.py``; none of
them in the file). Two things are timed with ``time.perf_counter``:

- the product: ``import_file(manager, name, data)`` on the file's bytes, which is what the
  web import and ``flask crm import`` run: decoding, mapping the headers, checking every
  row by the dossier rules, duplicates within the file and against the recorded
  customers, then the set-based writes (customers, first quadrant events, tags, one audit
  row per dossier and one for the import), committed;
- the floor: a bulk insert of exactly the rows the product wrote, in every table it wrote
  to (read back once, untimed, with their ids, and kept in memory as tuples in id order),
  the way ``bench/bank.py`` loads customers: on SQLite one prepared INSERT per table run by
  ``executemany``, on PostgreSQL one ``COPY … FROM STDIN`` per table; all in one
  transaction, committed.

Why it is fair. Both write the same rows into the same tables, with the same indexes,
constraints and foreign keys, in the same database, through the same app engine, from the
same start state: after every timed run the imported rows are deleted and the database is
settled (PostgreSQL: VACUUM ANALYZE and CHECKPOINT; SQLite: a WAL checkpoint), untimed, and
checked back at the start state. What the product spends beyond the floor is what an import
costs: reading the file and checking each row. The two alternate, floor first in even
rounds and product first in odd ones, after an untimed warm-up of each. The figure is the
ratio of the medians, product / floor; the target is 3×. The table also shows the floor's
customer table alone, for scale.

Run: ``python -m bench.importer [--customers N] [--existing M] [--backends
sqlite,postgresql] [--repeat 3] [--warmup 1] [--out docs/performance.md]``. It starts a
throwaway SQLite file and PostgreSQL server (``tests/support/pgserver.py``), prints the
table and writes its section of the report.
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from bench.bank import prepare
from bench.common import (
    maintenance,
    parse_args,
    run_on_throwaway_databases,
    server_version,
    write_section,
)
from bench.customer_file import generate_csv
from bench.importer_report import HEADING, TARGET, render_section, render_table
from crm import create_app
from crm.extensions import db
from crm.models import AuditLog, Branch, Customer, QuadrantEvent, Staff, Tag, customer_tag
from crm.models.enums import BranchStage, Role
from crm.services.transfer.importer import import_file

DEFAULT_CUSTOMERS = 100_000
DEFAULT_EXISTING = 100_000
OWNERS = 10
FILE_NAME = "客户名单.csv"

# The tables an import writes, parents first (the order the floor inserts them in).
TABLES = (
    Tag.__table__,
    Customer.__table__,
    QuadrantEvent.__table__,
    customer_tag,
    AuditLog.__table__,
)


@dataclass
class BackendResult:
    backend: str
    version: str
    customers: int
    existing: int
    file_bytes: int = 0
    floor: list[float] = field(default_factory=list)
    floor_customers: list[float] = field(default_factory=list)
    product: list[float] = field(default_factory=list)
    written: dict[str, int] = field(default_factory=dict)

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


# --- the start state ---------------------------------------------------------------------


@dataclass
class Bank:
    manager: Staff
    last_existing_id: int
    data: bytes


def prepare_bank(count: int, existing: int, log) -> Bank:
    """Migrate, load ``existing`` customers, then a branch with its manager and owners."""
    prepare(existing, log)
    branch = Branch(name="导入支行", stage=BranchStage.MATURE)
    manager = Staff(username="importer", display_name="Importer", role=Role.MANAGER, branch=branch)
    manager.password_hash = "!"
    owners = [
        Staff(
            username=f"rm{i:02d}",
            display_name=f"RM {i:02d}",
            role=Role.STAFF,
            branch=branch,
            password_hash="!",
        )
        for i in range(1, OWNERS + 1)
    ]
    db.session.add_all([branch, manager, *owners])
    db.session.commit()
    last = db.session.scalar(sa.select(sa.func.max(Customer.id))) or 0
    data = generate_csv(count, [o.username for o in owners])
    db.session.commit()
    return Bank(manager, last, data)


def _imported(table: sa.Table, last_existing_id: int) -> sa.ColumnElement[bool]:
    if table is Customer.__table__:
        return table.c.id > last_existing_id
    if "customer_id" in table.c:
        return sa.or_(table.c.customer_id > last_existing_id, table.c.customer_id.is_(None))
    return sa.true()  # tags: the bank has none of its own


def restore(bank: Bank) -> None:
    """Back to the start state, untimed: the imported rows deleted, the database settled."""
    for table in reversed(TABLES):
        db.session.execute(sa.delete(table).where(_imported(table, bank.last_existing_id)))
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(t.name for t in TABLES)
        maintenance(f"VACUUM ANALYZE {names}", "CHECKPOINT")
    else:
        maintenance("PRAGMA wal_checkpoint(TRUNCATE)")
    left = _count_written(bank)
    if any(left.values()):
        raise RuntimeError(f"start state lost: {left} left")


def _count_written(bank: Bank) -> dict[str, int]:
    counts = {
        t.name: db.session.scalar(
            sa.select(sa.func.count()).select_from(t).where(_imported(t, bank.last_existing_id))
        )
        for t in TABLES
    }
    db.session.commit()
    return counts


# --- measuring -----------------------------------------------------------------------------


def time_product(bank: Bank) -> tuple[float, int]:
    """What the web import and ``flask crm import`` run, committed: (seconds, created)."""
    manager = db.session.get(Staff, bank.manager.id)
    started = time.perf_counter()
    report = import_file(manager, FILE_NAME, bank.data)
    db.session.commit()
    seconds = time.perf_counter() - started
    if not report.written or report.problems:
        raise RuntimeError(f"the import refused the file: {report.problems[:5]}")
    return seconds, report.created


Captured = list[tuple[sa.Table, tuple[str, ...], list[tuple]]]


def read_rows(bank: Bank) -> Captured:
    """The rows the product wrote, untimed, as the driver returns them, in id order."""
    captured = []
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for table in TABLES:
            columns = tuple(c.name for c in table.columns)
            where = _imported(table, bank.last_existing_id).compile(
                db.engine, compile_kwargs={"literal_binds": True}
            )
            order = ", ".join(c.name for c in table.primary_key.columns)
            cursor.execute(
                f"SELECT {', '.join(columns)} FROM {table.name} WHERE {where} ORDER BY {order}"
            )
            captured.append((table, columns, cursor.fetchall()))
        cursor.close()
        raw.commit()
    finally:
        raw.close()
    return captured


def floor_sql(backend: str, table: sa.Table, columns: tuple[str, ...]) -> str:
    names = ", ".join(columns)
    if backend == "postgresql":
        return f"COPY {table.name} ({names}) FROM STDIN"
    return f"INSERT INTO {table.name} ({names}) VALUES ({', '.join('?' * len(columns))})"


def time_floor(captured: Captured) -> tuple[float, float]:
    """The same rows by the fastest plain method for the backend, in one transaction,
    committed: (seconds in all, seconds of the customer table alone)."""
    backend = db.engine.dialect.name
    raw = db.engine.raw_connection()
    customers = 0.0
    try:
        started = time.perf_counter()
        cursor = raw.cursor()
        for table, columns, rows in captured:
            table_started = time.perf_counter()
            sql = floor_sql(backend, table, columns)
            if backend == "postgresql":
                with cursor.copy(sql) as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                cursor.executemany(sql, rows)
            if table is Customer.__table__:
                customers = time.perf_counter() - table_started
        raw.commit()
        seconds = time.perf_counter() - started
        cursor.close()
    finally:
        raw.close()
    if backend == "postgresql":
        # The floor gave ids itself; the sequences must go on after them, as after the product.
        for table, _, _ in captured:
            if "id" in table.c:
                maintenance(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"(SELECT coalesce(max(id), 1) FROM {table.name}))"
                )
    return seconds, customers


def _one_round(result: BackendResult, bank: Bank, captured: Captured, floor_first: bool):
    expected = {table.name: len(rows) for table, _, rows in captured}
    for step in ("floor", "product") if floor_first else ("product", "floor"):
        if step == "floor":
            seconds, customers = time_floor(captured)
            result.floor.append(seconds)
            result.floor_customers.append(customers)
        else:
            seconds, _ = time_product(bank)
            result.product.append(seconds)
        written = _count_written(bank)
        if written != expected:
            raise RuntimeError(f"{step} wrote {written}, the product {expected} before")
        restore(bank)


def measure(backend: str, bank: Bank, count: int, existing: int, repeat: int, warmup: int, log):
    result = BackendResult(backend, server_version(), count, existing, len(bank.data))
    seconds, created = time_product(bank)  # the product's warm-up, and the rows to capture
    if created != count:
        raise RuntimeError(f"imported {created} customers of {count}")
    captured = read_rows(bank)
    result.written = {table.name: len(rows) for table, _, rows in captured}
    log(f"  imported {created:,} customers in {seconds:.1f} s (warm-up, untimed)")
    restore(bank)
    if warmup:
        time_floor(captured)
        restore(bank)
    scratch = BackendResult(backend, "", count, existing)
    for _ in range(warmup - 1):
        _one_round(scratch, bank, captured, True)
    for round_number in range(repeat):
        _one_round(result, bank, captured, round_number % 2 == 0)
        log(
            f"  round {round_number + 1}: floor {result.floor[-1]:.3f} s, "
            f"import {result.product[-1]:.3f} s"
        )
    return result


def bench_backend(backend, url, count, existing, repeat, warmup, log=print) -> BackendResult:
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        try:
            log(f"{backend}: {existing:,} customers recorded, a file of {count:,} to import")
            bank = prepare_bank(count, existing, log)
            return measure(backend, bank, count, existing, repeat, warmup, log)
        finally:
            db.session.remove()
            db.engine.dispose()


def run_benchmark(
    urls: dict[str, str],
    count: int,
    existing: int,
    repeat: int,
    out: Path,
    command: str,
    warmup: int = 1,
    log=print,
) -> list[BackendResult]:
    """Measure each backend at its (empty) database URL, print the table, write the report."""
    results = [
        bench_backend(b, url, count, existing, repeat, warmup, log) for b, url in urls.items()
    ]
    log(render_table(results))
    write_section(out, HEADING, render_section(results, command))
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(
        "bench.importer",
        __doc__,
        argv,
        {"customers": DEFAULT_CUSTOMERS, "existing": DEFAULT_EXISTING},
    )
    return run_on_throwaway_databases(
        args,
        lambda urls: run_benchmark(
            urls, args.customers, args.existing, args.repeat, args.out, args.command, args.warmup
        ),
    )


if __name__ == "__main__":
    sys.exit(main())
