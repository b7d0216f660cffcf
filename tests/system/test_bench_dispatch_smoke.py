"""Smoke run of the dispatcher benchmark (bench/dispatch.py) at a thousand messages.

Not a timed test: it checks the benchmark runs on both backends, sends every queued message
exactly once, and writes its section of the report to a temporary file."""

from __future__ import annotations

import re
import statistics

import pytest

from bench import dispatch

ROW = re.compile(r"^\| (sqlite|postgresql) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| ([\d,]+) \|")


def test_dispatch_benchmark_reports_a_rate_per_backend(bench_urls, tmp_path):
    out = tmp_path / "performance.md"
    # Each timed dispatch stops the benchmark unless it sent every queued message.
    results = dispatch.run_benchmark(
        bench_urls, 2_400, 1_000, 1, out, "smoke", warmup=0, log=lambda _: None
    )
    report = out.read_text(encoding="utf-8")
    rows = {m[1]: m for line in report.splitlines() if (m := ROW.match(line))}
    assert set(rows) == {"sqlite", "postgresql"} and report.count(dispatch.HEADING) == 1
    for result in results:
        assert result.messages == 1_000 and result.rate > 0
        assert float(rows[result.backend][3]) == pytest.approx(
            statistics.median(result.dispatch), abs=0.001
        )
