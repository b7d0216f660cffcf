"""What a person at a browser waits for, at bank scale: the customer list, the dossier page,
the web server's throughput and its workers' memory.

The bank is `bench/bank.py`'s, dealt among 500 relationship managers in 10 branches (2,000
customers each at a million). Four measurements, each against a floor from the same run:

- **Customer list** (`/customers`, filtered by quadrant and owner, 50 a page, first and deep
  pages; `bench/lists.py`): the query layer (`customer_list.list_customers`, what the page
  calls: the page's customers with their owners' names, then their tags) against its bare SQL
  (the same two statements by hand, through the driver), each sampled many times at random
  cursors. The whole page over HTTP (test client: routing, session, query, template) is timed
  too, for the p95 a person feels. Targets: query ≤ 3× its SQL at p50, page p95 ≤ 50 ms.
- **Customer search** (`/customers?q=`, by name, pinyin, initials, phone tail and policy
  number, for a relationship manager and an admin; `bench/searches.py`): the same measures
  against the statements the search runs, by hand, with the same targets, in a section of
  its own.
- **Sorted lists and the header's search** (`bench/sorted_lists.py`): the list sorted by
  name, liquid assets and willingness, for a relationship manager, a branch manager and an
  admin, at random depths, with the same measures and targets as the list; the header's
  search box (`/customers/find`), p95 ≤ 30 ms.
- **Customer list by tag** (`/customers?tag=`; `bench/tags.py`): the bank tagged as staff
  tag it, the lists of a relationship manager, a branch manager and an admin filtered by a
  common and a rare tag, measured as the lists are, in a section of its own with the request
  that saves new thresholds (≤ 200 ms: the re-tier is queued for the scheduler process).
- **Dossier page** (`/customers/<id>`, a random customer of the signed-in staff member): p95
  ≤ 30 ms over HTTP in the test client.
- **Throughput** under gunicorn (two sync workers, as `make run` starts it): the dossier page
  against a hello-world route of the same app on the same server (`bench/web_wsgi.py`), each
  driven by the same concurrent clients for the same time, alternating; target ≥ 50%. Then
  the workers' resident memory (VmRSS): target ≤ 150 MB each.

  Beside them, and driven the same way, the lightest page a signed-in person can get: the
  app's layout with nothing in it (`/bench/layout`: the session, the staff member, the
  navigation and its unread count). It has no target; it shows how much of the dossier's
  cost is the page's own and how much any signed-in page pays.

Run: `.venv/bin/python -m bench.web --customers 1000000`.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import sqlalchemy as sa

from bench import searches, sorted_lists, tags
from bench.bank import prepare
from bench.common import (
    machine,
    parse_args,
    run_on_throwaway_databases,
    server_version,
    write_section,
)
from bench.lists import (
    LIST_P95_TARGET_MS,
    LIST_RATIO_TARGET,
    PASSWORD,
    ListScenario,
    list_table,
    log_in,
    measure_lists,
    percentile,
    verdict,
)
from bench.throughput import (
    CLIENTS,
    ROUND_SECONDS,
    THROUGHPUT_TARGET,
    cost_notes,
    measure_throughput,
)
from crm import create_app
from crm.extensions import db
from crm.models import Customer, Staff

HEADING = "## Customer list, dossier page, web throughput and memory"
SEARCH_HEADING = "## Customer search: names, pinyin, initials, phone tails, policy numbers"
DEFAULT_CUSTOMERS = 1_000_000
OWNERS = 500
BRANCHES = 10
SAMPLES = 200
DOSSIER_P95_TARGET_MS = 30.0
RSS_TARGET_MB = 150.0


@dataclass
class BackendResult:
    backend: str
    version: str
    customers: int
    lists: list[ListScenario] = field(default_factory=list)
    searches: list[searches.SearchScenario] = field(default_factory=list)
    sorts: list[ListScenario] = field(default_factory=list)  # bench/sorted_lists.py
    tags: list = field(default_factory=list)  # bench/tags.py: the list filtered by tag
    saves: list[float] = field(default_factory=list)  # bench/tags.py: saving thresholds
    header_ms: list[float] = field(default_factory=list)  # the header's search box
    dossier_ms: list[float] = field(default_factory=list)
    hello_ms: list[float] = field(default_factory=list)  # the hello route in the test client
    layout_ms: list[float] = field(default_factory=list)  # the signed-in layout, likewise
    dossier_statements: int = 0  # SQL statements one dossier page runs
    hello_rps: list[float] = field(default_factory=list)
    layout_rps: list[float] = field(default_factory=list)
    dossier_rps: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)

    @property
    def dossier_p95(self) -> float:
        return percentile(self.dossier_ms, 0.95)

    @property
    def throughput_ratio(self) -> float:
        return statistics.median(self.dossier_rps) / statistics.median(self.hello_rps)


def add_floors(app) -> None:
    """Two routes on the app (`bench/web_wsgi.py` adds them to the app gunicorn serves):
    hello world, what serving any request costs with no query and no template; and the
    signed-in layout, what any page of the app costs before it shows anything."""
    from flask import render_template
    from flask_login import login_required

    if "bench_hello" not in app.view_functions:
        app.add_url_rule("/bench/hello", "bench_hello", lambda: "hello")
        app.add_url_rule(
            "/bench/layout", "bench_layout", login_required(lambda: render_template("base.html"))
        )


def measure_dossier(app, result: BackendResult, samples: int, log) -> None:
    """The dossier page's p95, and for the report what it is made of: its SQL statements,
    and the hello route's and the signed-in layout's times in the same client."""
    rng = random.Random(11)
    staff = db.session.scalars(sa.select(Staff).where(Staff.username == "bench")).one()
    ids = db.session.scalars(sa.select(Customer.id).where(Customer.owner_id == staff.id)).all()
    client = app.test_client()
    log_in(client, "bench")
    for _ in range(samples):
        customer_id = rng.choice(ids)
        started = time.perf_counter()
        response = client.get(f"/customers/{customer_id}")
        result.dossier_ms.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
        for path, times in (("/bench/hello", result.hello_ms), ("/bench/layout", result.layout_ms)):
            started = time.perf_counter()
            client.get(path)
            times.append((time.perf_counter() - started) * 1000)
    statements: list[str] = []

    def count(*args) -> None:
        statements.append(args[2])

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get(f"/customers/{rng.choice(ids)}").status_code == 200
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    result.dossier_statements = len(statements)
    log(
        f"  dossier page: p50 {statistics.median(result.dossier_ms):.1f} ms, "
        f"p95 {result.dossier_p95:.1f} ms, {result.dossier_statements} statements; "
        f"hello p50 {statistics.median(result.hello_ms):.2f} ms, "
        f"signed-in layout p50 {statistics.median(result.layout_ms):.2f} ms"
    )


def load_bank(backend: str, count: int, log) -> BackendResult:
    """The bank, with ``bench`` and ``manager01`` able to log in."""
    log(f"{backend}: loading {count:,} customers among {OWNERS} staff")
    prepare(count, log, owners=min(OWNERS, count), branches=BRANCHES)
    for username in ("bench", "manager01"):
        staff = db.session.scalars(sa.select(Staff).where(Staff.username == username)).one()
        staff.set_password(PASSWORD)
    db.session.commit()
    return BackendResult(backend, server_version(), count)


def bench_backend(
    backend: str,
    url: str,
    count: int,
    repeat: int,
    samples: int,
    log=print,
    seconds: float = ROUND_SECONDS,
) -> BackendResult:
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    add_floors(app)
    with app.app_context():
        try:
            result = load_bank(backend, count, log)
            result.lists = measure_lists(app, samples, log)
            searches.prepare_searches(min(OWNERS, count), log)
            result.searches = searches.measure_searches(app, samples, min(OWNERS, count), log)
            result.sorts = sorted_lists.measure_sorted_lists(app, samples, log)
            result.header_ms = sorted_lists.measure_header_search(app, samples, log)
            tags.prepare_tags(log)
            result.tags = tags.measure_tags(app, samples, log)
            result.saves = tags.measure_settings_save(app, 20, log)
            measure_dossier(app, result, samples, log)
            measure_throughput(url, result, repeat, log, seconds)
            return result
        finally:
            db.session.remove()
            db.engine.dispose()


# --- reporting ---------------------------------------------------------------------------------


def render_tables(results: list[BackendResult]) -> str:
    sorted_results = [SimpleNamespace(backend=r.backend, lists=r.sorts) for r in results]
    lines = [
        list_table(results),
        "",
        "Sorted (by name in pinyin order, liquid assets, willingness), a page at a random depth:",
        "",
        list_table(sorted_results),
        "",
        "The header's search box (`/customers/find`), answered with the dossier or the list:",
        "",
        sorted_lists.header_table(results),
        "",
        "| backend | dossier p50 ms | dossier p95 ms (≤ 30) | verdict | hello req/s "
        "| signed-in layout req/s | dossier req/s | throughput ratio (≥ 0.5) | verdict "
        "| worker RSS MB (≤ 150) | verdict |",
        "|---|---:|---:|---|---:|---:|---:|---:|---|---:|---|",
    ]
    for r in results:
        rss = max(r.rss_mb) if r.rss_mb else 0.0
        lines.append(
            f"| {r.backend} | {statistics.median(r.dossier_ms):.1f} | {r.dossier_p95:.1f} "
            f"| {verdict(r.dossier_p95 <= DOSSIER_P95_TARGET_MS)} "
            f"| {statistics.median(r.hello_rps):.0f} | {statistics.median(r.layout_rps):.0f} "
            f"| {statistics.median(r.dossier_rps):.0f} "
            f"| {r.throughput_ratio:.2f} | {verdict(r.throughput_ratio >= THROUGHPUT_TARGET)} "
            f"| {rss:.0f} | {verdict(bool(r.rss_mb) and rss <= RSS_TARGET_MB)} |"
        )
    return "\n".join(lines)


def summary_rows(results: list[BackendResult]) -> list[tuple[str, str, str, str, str]]:
    """(measure, backend, target, measured, verdict) for the report's summary table."""
    rows = []
    for r in results:
        worst_ratio = max(r.lists, key=lambda s: s.ratio)
        worst_p95 = max(r.lists, key=lambda s: s.page_p95)
        worst_sorted = max(r.sorts, key=lambda s: s.page_p95, default=None)
        header_p95 = percentile(r.header_ms, 0.95) if r.header_ms else 0.0
        rss = max(r.rss_mb) if r.rss_mb else 0.0
        rows += [
            (
                "customer list query vs its SQL (worst of 5 lists)",
                r.backend,
                "≤ 3×",
                f"{worst_ratio.ratio:.2f}×",
                verdict(worst_ratio.ratio <= LIST_RATIO_TARGET),
            ),
            (
                "customer list page p95 (worst of 5 lists)",
                r.backend,
                "≤ 50 ms",
                f"{worst_p95.page_p95:.1f} ms",
                verdict(worst_p95.page_p95 <= LIST_P95_TARGET_MS),
            ),
            (
                f"sorted customer list page p95 (worst of {len(r.sorts)})",
                r.backend,
                "≤ 50 ms",
                f"{worst_sorted.page_p95:.1f} ms" if r.sorts else "—",
                verdict(bool(r.sorts) and worst_sorted.page_p95 <= LIST_P95_TARGET_MS),
            ),
            (
                "header search p95",
                r.backend,
                "≤ 30 ms",
                f"{header_p95:.1f} ms",
                verdict(bool(r.header_ms) and header_p95 <= sorted_lists.HEADER_P95_TARGET_MS),
            ),
            (
                "dossier page p95",
                r.backend,
                "≤ 30 ms",
                f"{r.dossier_p95:.1f} ms",
                verdict(r.dossier_p95 <= DOSSIER_P95_TARGET_MS),
            ),
            (
                "dossier page throughput vs hello world (gunicorn)",
                r.backend,
                "≥ 50%",
                f"{r.throughput_ratio:.0%}",
                verdict(r.throughput_ratio >= THROUGHPUT_TARGET),
            ),
            (
                "web worker memory (RSS)",
                r.backend,
                "≤ 150 MB",
                f"{rss:.0f} MB",
                verdict(bool(r.rss_mb) and rss <= RSS_TARGET_MB),
            ),
        ]
    return rows


def render_section(
    results: list[BackendResult], command: str, samples: int, seconds: float = ROUND_SECONDS
) -> str:
    first = results[0]
    return f"""{HEADING}

Requirement: at 1,000,000 customers, the filtered customer list (by quadrant and owner, 50 a
page, first and deep pages, with its total counted to 10,001) at most 3× its bare SQL at p50
with the page's p95 at most 50 ms, and so each sort of the list (by name, liquid assets,
willingness, for a relationship manager, a branch manager and an admin); the header's search
box answered with a p95 of at most 30 ms; the dossier page's p95 at most 30 ms; the dossier
page served by gunicorn at least 50% of a hello-world route's throughput on the same server;
each web worker at most 150 MB resident (`bench/web.py`, `bench/sorted_lists.py`; their
docstrings say what is measured and against what).

- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC
- Machine: {machine({r.backend: r.version for r in results})}
- Customers: {first.customers:,} among {OWNERS} staff in {BRANCHES} branches.
- Lists and dossiers: {samples} samples each at random quadrants, owners and customers;
  the list's deep page is the oldest page of the filtered list (a cursor one page from the
  end). Throughput: {CLIENTS} concurrent clients, {seconds:.0f} s rounds, alternating,
  medians of {len(first.hello_rps)}.

{render_tables(results)}

{cost_notes(results)}

Rerun: `{command}`
"""


def run_benchmark(
    urls: dict[str, str],
    count: int,
    repeat: int,
    out: Path,
    command: str,
    samples: int = SAMPLES,
    log=print,
    seconds: float = ROUND_SECONDS,
) -> list[BackendResult]:
    results = [
        bench_backend(b, url, count, repeat, samples, log, seconds) for b, url in urls.items()
    ]
    log(render_tables(results))
    log(searches.search_table(results))
    write_section(out, HEADING, render_section(results, command, samples, seconds))
    search_section = searches.render_section(
        SEARCH_HEADING, results, command, samples, LIST_P95_TARGET_MS, OWNERS
    )
    write_section(out, SEARCH_HEADING, search_section)
    log(tags.tag_table(results))
    write_section(out, tags.HEADING, tags.render_section(results, command, samples))
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args("bench.web", __doc__, argv, {"customers": DEFAULT_CUSTOMERS})
    return run_on_throwaway_databases(
        args,
        lambda urls: run_benchmark(urls, args.customers, args.repeat, args.out, args.command),
    )


if __name__ == "__main__":
    sys.exit(main())
