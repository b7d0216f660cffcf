"""A smoke run of bench/team.py at a few hundred customers: not timed, it checks that the
harness gives the branch its month, measures the team page, and hands customers over and
back on both backends, reporting each figure with a target and a verdict."""

from __future__ import annotations

import re

from bench import team

CUSTOMERS = 600
VERDICT = re.compile(r"\| (meets|misses) \|")


def test_team_benchmark_reports_the_page_and_the_handover_per_backend(bench_urls, tmp_path):
    out = tmp_path / "performance.md"
    out.write_text("# Performance\n\nIntro.\n\n## Another benchmark\n\nKept.\n", encoding="utf-8")

    results = team.run_benchmark(bench_urls, CUSTOMERS, 2, out, "smoke", warmup=0, samples=5)

    assert [r.backend for r in results] == ["sqlite", "postgresql"]
    for r in results:
        assert r.branch_customers > 0 and len(r.team_ms) == 5
        assert 5 <= r.team_statements <= 14  # a handful, whatever the branch's size
        assert r.handed == CUSTOMERS // 2
        assert len(r.floor_s) == len(r.product_s) == 2 and r.ratio > 0

    rows = team.summary_rows(results)
    assert len(rows) == 4 and {row[1] for row in rows} == {"sqlite", "postgresql"}
    text = out.read_text(encoding="utf-8")
    assert "## Another benchmark\n\nKept." in text
    assert len(VERDICT.findall(text[text.index(team.HEADING) :])) == 4
