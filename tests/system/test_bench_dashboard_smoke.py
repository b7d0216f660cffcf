"""Smoke run of bench/dashboard.py at a few thousand customers: not timed, it checks that the
benchmark runs on both backends, writes its section (to a temporary file, never docs/), and
that the figures it times are the dashboard's for a branch with a year of history."""

from __future__ import annotations

import re

import pytest

from bench import dashboard

CUSTOMERS = 3_000
# backend | branch customers | events | floor p50 | p50 | p95 | cold | ratio | target | verdict
ROW = re.compile(
    r"^\| (sqlite|postgresql) \| ([\d,]+) \| ([\d,]+) \| ([\d.]+) \| (\d+) \| (\d+) \| (\d+) "
    r"\| ([\d.]+)× \| p95 ≤ 300 ms \| (meets|misses) \| ([\d.]+) \|$"
)

pytestmark = pytest.mark.slow


def test_dashboard_benchmark_times_a_branch_with_a_year_of_history(bench_urls, tmp_path):
    out = tmp_path / "performance.md"
    out.write_text("# Performance\n\n## Another benchmark\n\nKept.\n", encoding="utf-8")
    results = dashboard.run_benchmark(
        bench_urls, CUSTOMERS, repeat=2, out=out, command="smoke", warmup=0, log=lambda _: None
    )
    report = out.read_text(encoding="utf-8")
    assert "## Another benchmark\n\nKept." in report
    assert report.count(dashboard.HEADING) == 1
    rows = {m[1]: m for line in report.splitlines() if (m := ROW.match(line))}
    assert set(rows) == {"sqlite", "postgresql"}
    for r in results:
        # One branch below 50,000 customers: the whole bank, with its moves over the year.
        assert r.branch_customers == CUSTOMERS
        assert r.branch_events > 2 * CUSTOMERS and r.rows["maturity_callback"] > 0
        assert len(r.product) == len(r.floor) == 2 and r.cold_ms > 0 and r.store_s > 0
    assert [r.branch_events for r in results] == [results[0].branch_events] * 2
    assert len(dashboard.summary_rows(results)) == 4
