"""The customer list at ten million customers on PostgreSQL: the scale at which peers take
tens of seconds to list contacts.

The bank is `bench/bank.py`'s, dealt among the same 500 relationship managers in 10
branches as `bench/web.py`'s (so at ten million each has 20,000 customers and a branch a
million: longer lists than a real bank's, not shorter). The lists, their floors and the
sampling are `bench/web.py`'s: the query layer against the same two statements by hand,
and the whole page over HTTP in the test client. Target: page p95 ≤ 100 ms (the query's
ratio to its SQL is reported against the same ≤ 3× as at a million).

From the command line (and `make bench`) it also measures the search box's scenarios
(`bench/searches.py`) on the same bank, against the same 100 ms, in a section of its own;
``run_benchmark(..., searches=False)`` measures the lists alone.

Run: `.venv/bin/python -m bench.list_scale --customers 10000000`.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from bench import searches as search_scenarios
from bench.common import machine, parse_args, run_on_throwaway_databases, write_section
from bench.lists import LIST_RATIO_TARGET, list_table, measure_lists, verdict
from bench.web import BRANCHES, OWNERS, SAMPLES, BackendResult, load_bank
from crm import create_app
from crm.extensions import db

HEADING = "## Customer list at ten million customers (PostgreSQL)"
SEARCH_HEADING = "## Customer search at ten million customers (PostgreSQL)"
DEFAULT_CUSTOMERS = 10_000_000
P95_TARGET_MS = 100.0


def bench_backend(
    backend: str, url: str, count: int, samples: int, log=print, searches: bool = False
) -> BackendResult:
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        try:
            result = load_bank(backend, count, log)
            result.lists = measure_lists(app, samples, log)
            if searches:
                search_scenarios.prepare_searches(min(OWNERS, count), log)
                result.searches = search_scenarios.measure_searches(
                    app, samples, min(OWNERS, count), log
                )
            return result
        finally:
            db.session.remove()
            db.engine.dispose()


def summary_rows(results: list[BackendResult]) -> list[tuple[str, str, str, str, str]]:
    rows = []
    for r in results:
        worst_p95 = max(r.lists, key=lambda s: s.page_p95)
        worst_ratio = max(r.lists, key=lambda s: s.ratio)
        rows += [
            (
                f"customer list page p95 at {r.customers:,} customers (worst of 5 lists)",
                r.backend,
                f"≤ {P95_TARGET_MS:.0f} ms",
                f"{worst_p95.page_p95:.1f} ms",
                verdict(worst_p95.page_p95 <= P95_TARGET_MS),
            ),
            (
                f"customer list query vs its SQL at {r.customers:,} customers (worst of 5)",
                r.backend,
                f"≤ {LIST_RATIO_TARGET:.0f}×",
                f"{worst_ratio.ratio:.2f}×",
                verdict(worst_ratio.ratio <= LIST_RATIO_TARGET),
            ),
        ]
    return rows


def render_section(results: list[BackendResult], command: str, samples: int) -> str:
    first = results[0]
    return f"""{HEADING}

Requirement: on PostgreSQL at 10,000,000 customers, the filtered customer list (by quadrant
and owner, 50 a page, first and deep pages) with the page's p95 at most 100 ms
(`bench/list_scale.py`; the lists and their floors are `bench/web.py`'s).

- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC
- Machine: {machine({r.backend: r.version for r in results})}
- Customers: {first.customers:,} among {OWNERS} staff in {BRANCHES} branches
  ({first.customers // OWNERS:,} each, {first.customers // BRANCHES:,} a branch).
- {samples} samples per list at random quadrants and owners.

{list_table(results, P95_TARGET_MS)}

Rerun: `{command}`
"""


def run_benchmark(
    urls: dict[str, str],
    count: int,
    out: Path,
    command: str,
    samples: int = SAMPLES,
    log=print,
    searches: bool = False,
) -> list[BackendResult]:
    results = [bench_backend(b, url, count, samples, log, searches) for b, url in urls.items()]
    log(list_table(results, P95_TARGET_MS))
    write_section(out, HEADING, render_section(results, command, samples))
    if searches:
        log(search_scenarios.search_table(results, P95_TARGET_MS))
        section = search_scenarios.render_section(
            SEARCH_HEADING, results, command, samples, P95_TARGET_MS, OWNERS
        )
        write_section(out, SEARCH_HEADING, section)
    return results


def search_summary_rows(results: list[BackendResult]) -> list[tuple[str, str, str, str, str]]:
    at = f" at {results[0].customers:,} customers" if results else ""
    return search_scenarios.summary_rows(results, P95_TARGET_MS, at)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(
        "bench.list_scale",
        __doc__,
        argv,
        {"customers": DEFAULT_CUSTOMERS},
        backends=("postgresql",),
    )
    return run_on_throwaway_databases(
        args,
        lambda urls: run_benchmark(urls, args.customers, args.out, args.command, searches=True),
    )


if __name__ == "__main__":
    sys.exit(main())
