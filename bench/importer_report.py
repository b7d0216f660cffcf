"""The import benchmark's report (bench/importer.py): its table, every run, and its section of
docs/performance.md."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bench.common import machine
from bench.customer_file import HEADERS

if TYPE_CHECKING:
    from bench.importer import BackendResult

TARGET = 3.0
HEADING = "## Import a customer list"


def render_table(results: list[BackendResult]) -> str:
    lines = [
        "| backend | customers | floor median s | of which customer table s "
        "| import median s | ratio | target | verdict |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.backend} | {r.customers} | {r.floor_median:.3f} "
            f"| {statistics.median(r.floor_customers):.3f} | {r.product_median:.3f} "
            f"| {r.ratio:.2f} | {TARGET:.1f} | {r.verdict} |"
        )
    return "\n".join(lines)


def _runs(results: list[BackendResult]) -> str:
    return "\n".join(
        f"- {r.backend}: floor {', '.join(f'{s:.3f}' for s in r.floor)}; "
        f"import {', '.join(f'{s:.3f}' for s in r.product)}"
        for r in results
    )


def render_section(results: list[BackendResult], command: str) -> str:
    first = results[0]
    written = ", ".join(f"{name} {n:,}" for name, n in first.written.items())
    return f"""{HEADING}

Requirement: importing 100,000 customers from a CSV file takes at most {TARGET:.0f}× a bulk
insert of the same rows into the same database, measured side by side in one run
(`bench/importer.py`; its docstring says why the comparison is fair).

- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC
- Machine: {machine({r.backend: r.version for r in results})}
- File: {first.customers:,} customers, {first.file_bytes / 1e6:.1f} MB of CSV (UTF-8 with a
  byte-order mark, Chinese headers: {", ".join(HEADERS)}), imported by a branch manager
  into a CRM already holding {first.existing:,} customers.
- Rows written per import: {written}.
- Floor: those rows, read back once and kept in memory, inserted again with their ids by one
  statement per table (SQLite: a prepared `INSERT` run by `executemany`; PostgreSQL:
  `COPY … FROM STDIN`), in one transaction, committed. Import: `import_file(manager,
  name, data)`, what the web import and `flask crm import` run, committed. Medians of
  {len(first.floor)} runs each, alternating, each from the same start state.

{render_table(results)}

Every run, in seconds:

{_runs(results)}

Rerun: `{command}`
"""
