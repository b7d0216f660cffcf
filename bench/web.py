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

import http.client
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
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
THROUGHPUT_TARGET = 0.5
RSS_TARGET_MB = 150.0
CLIENTS = 4
ROUND_SECONDS = 8.0


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


# --- gunicorn ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(port: int, method: str, path: str, cookie: str = "", body: str = ""):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": cookie} if cookie else {}
    if body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body or None, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response, data


def _session_cookie(port: int) -> str:
    """Log in over HTTP as a browser would: the form's CSRF token, then the session cookie."""
    response, page = _request(port, "GET", "/login")
    cookie = (response.getheader("Set-Cookie") or "").split(";")[0]
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()
    from urllib.parse import urlencode

    body = urlencode({"csrf_token": token, "username": "bench", "password": PASSWORD})
    response, _ = _request(port, "POST", "/login", cookie, body)
    assert response.status == 302, "could not log in to gunicorn"
    return (response.getheader("Set-Cookie") or cookie).split(";")[0]


def _drive(port: int, paths: list[str], cookie: str, seconds: float) -> float:
    """Requests per second from CLIENTS threads, each one request at a time."""
    stop = time.perf_counter() + seconds
    counts = [0] * CLIENTS
    errors: list[str] = []

    def client(n: int) -> None:
        rng = random.Random(n)
        while time.perf_counter() < stop:
            response, _ = _request(port, "GET", rng.choice(paths), cookie)
            if response.status != 200:
                errors.append(str(response.status))
                return
            counts[n] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"gunicorn answered {errors[0]}")
    return sum(counts) / (time.perf_counter() - started)


def _workers(master: int) -> list[int]:
    path = Path(f"/proc/{master}/task/{master}/children")
    return [int(p) for p in path.read_text().split()]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure_throughput(
    url: str, result: BackendResult, repeat: int, log, seconds: float = ROUND_SECONDS
) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "CRM_CONFIG": "development",
        "CRM_DATABASE_URL": url,
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
    }
    bin_dir = Path(sys.executable).parent
    server = subprocess.Popen(
        [str(bin_dir / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2"]
        + ["--log-level", "warning", "bench.web_wsgi:app"],
        env=env,
    )
    try:
        for _ in range(100):
            try:
                _request(port, "GET", "/bench/hello")
                break
            except OSError:
                time.sleep(0.2)
        cookie = _session_cookie(port)
        staff_id = db.session.scalar(sa.select(Staff.id).where(Staff.username == "bench"))
        ids = db.session.scalars(
            sa.select(Customer.id).where(Customer.owner_id == staff_id).limit(500)
        ).all()
        dossiers = [f"/customers/{i}" for i in ids]
        kinds = [
            (["/bench/hello"], result.hello_rps),
            (["/bench/layout"], result.layout_rps),
            (dossiers, result.dossier_rps),
        ]
        for paths, _ in kinds:  # warm both workers on each
            _drive(port, paths, cookie, min(2.0, seconds))
        for n in range(repeat):
            for paths, rates in kinds if n % 2 == 0 else reversed(kinds):
                rates.append(_drive(port, paths, cookie, seconds))
            log(
                f"  round {n + 1}: hello {result.hello_rps[-1]:.0f}/s, signed-in layout "
                f"{result.layout_rps[-1]:.0f}/s, dossier {result.dossier_rps[-1]:.0f}/s"
            )
        result.rss_mb = [_rss_mb(pid) for pid in _workers(server.pid)]
        log(f"  workers' memory: {', '.join(f'{mb:.0f} MB' for mb in result.rss_mb)}")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


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


def _per_hour(rate: float) -> str:
    per_hour = rate * 3600
    return f"{per_hour / 1e6:.1f} million" if per_hour >= 1e6 else f"{per_hour:,.0f}"


def cost_notes(results: list[BackendResult]) -> str:
    """What the dossier page is made of against the hello route and the signed-in layout, so
    a throughput miss reads with its cause: a ratio is about the inverse of the costs."""
    lines = [
        "What the pages cost (test client, p50) and serve (gunicorn, medians), against the "
        "hello route:",
        "",
    ]
    for r in results:
        if not (r.hello_ms and r.layout_ms and r.hello_rps and r.layout_rps):
            continue
        hello = statistics.median(r.hello_ms)
        layout = statistics.median(r.layout_ms)
        dossier = statistics.median(r.dossier_ms)
        layout_share = statistics.median(r.layout_rps) / statistics.median(r.hello_rps)
        own_share = statistics.median(r.dossier_rps) / statistics.median(r.layout_rps)
        lines.append(
            f"- {r.backend}: hello {hello:.2f} ms; the signed-in layout {layout:.2f} ms "
            f"({layout / hello:.1f}×), served at {layout_share:.0%} of the hello route's rate; "
            f"the dossier {dossier:.1f} ms ({dossier / hello:.1f}×; {r.dossier_statements} SQL "
            f"statements and a template of every section), served at {own_share:.0%} of the "
            f"layout's rate."
        )
    missed = [r for r in results if r.hello_rps and r.throughput_ratio < THROUGHPUT_TARGET]
    if missed:
        rates = ", ".join(
            f"{_per_hour(statistics.median(r.dossier_rps))} on {r.backend}" for r in missed
        )
        lines += [
            "",
            "Why the throughput target is missed: the hello route is what the server and the "
            "framework cost with no session, no query and no template, and no signed-in page "
            "of this app comes near half of it; the empty layout above is the floor of every "
            "page a relationship manager sees. What would close the gap is serving dossiers "
            "from a page cache, which would show a dossier older than its last edit (a "
            "re-assessment, a call-back logged, a tag); the app does not, on purpose. Dossier "
            f"pages an hour that two workers serve at the rates measured: {rates}.",
        ]
    return "\n".join(lines)


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
