"""Smoke run of bench/pipeline.py at a few thousand customers: not timed, it checks that the
benchmark runs on both backends, writes its section (to a temporary file, never docs/), and
that the board and funnel it times agree with its bare SQL floor."""

from __future__ import annotations

import re

from bench import pipeline

CUSTOMERS = 3_000
# backend | page | floor p50 | product p50 | ratio | product p95 | target | verdict
ROW = re.compile(
    r"^\| (sqlite|postgresql) \| (a branch's board|a branch's funnel for a year) \| ([\d.]+) "
    r"\| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| ≤ (50|300) ms \| (meets|misses) \|$"
)


def test_pipeline_benchmark_reports_both_pages_per_backend(bench_urls, tmp_path):
    out = tmp_path / "performance.md"
    out.write_text("# Performance\n\n## Another benchmark\n\nKept.\n", encoding="utf-8")

    results = pipeline.run_benchmark(
        bench_urls, CUSTOMERS, repeat=1, out=out, command="smoke", warmup=0, log=lambda _: None
    )

    report = out.read_text(encoding="utf-8")
    assert "## Another benchmark\n\nKept." in report
    assert report.count(pipeline.HEADING) == 1
    rows = [m for line in report.splitlines() if (m := ROW.match(line))]
    assert {(m[1], m[2]) for m in rows} == {
        (backend, page)
        for backend in ("sqlite", "postgresql")
        for page in ("a branch's board", "a branch's funnel for a year")
    }
    for r in results:
        # The same customers on both backends: the same opportunities, about three in ten
        # customers with an open one.
        assert r.opportunities == results[0].opportunities
        open_ = sum(r.opportunities.get(s, 0) for s in ("lead", "needs", "proposal", "closing"))
        assert 0.25 * CUSTOMERS < open_ < 0.35 * CUSTOMERS
        assert len(r.board) == len(r.board_floor) == pipeline.SAMPLES
    assert [r.backend for r in results] == ["sqlite", "postgresql"]
