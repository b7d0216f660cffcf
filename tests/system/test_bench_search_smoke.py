"""A smoke run of the search box's benchmark scenarios (bench/searches.py) at a few hundred
customers, through bench/list_scale.py on both backends: not timed, it checks that every
scenario runs as the relationship manager and as the admin, that the query layer and its
SQL by hand find the same customers (whether the matches are read by id or walked), and
that each search is reported with its target and verdict. bench/web.py measures the same
scenarios in its own run (tests/system/test_bench_web_smoke.py runs it)."""

from __future__ import annotations

import re

from bench import list_scale, searches
from crm.services.customers import search

CUSTOMERS = 600
VERDICT = re.compile(r"\| (meets|misses) \|")


def test_every_search_runs_for_staff_and_admin_and_is_reported(bench_urls, tmp_path, monkeypatch):
    # Few enough matches to walk at this size too, so that both ways are compared with SQL.
    monkeypatch.setattr(search, "WALK_ABOVE", 20)
    out = tmp_path / "performance.md"
    results = list_scale.run_benchmark(
        bench_urls,
        CUSTOMERS,
        out=out,
        command="smoke",
        samples=3,
        log=lambda _: None,
        searches=True,
    )

    assert [r.backend for r in results] == ["sqlite", "postgresql"]
    for r in results:
        assert [s.name for s in r.searches] == [name for name, _, _ in searches.SCENARIOS]
        assert all(len(s.floor_ms) == len(s.query_ms) == len(s.page_ms) == 3 for s in r.searches)
        walked = {s.kind for s in r.searches if s.walked}
        assert "common" in walked  # 王, 李, 张: more than 20 of 600
    rows = list_scale.search_summary_rows(results)
    assert [row[0] for row in rows[:2]] == [
        "customer search query vs its SQL at 600 customers (worst of 16)",
        "customer search page p95 at 600 customers (worst of 16)",
    ]
    assert [row[2] for row in rows] == ["≤ 3×", "≤ 100 ms"] * 2
    report = out.read_text(encoding="utf-8")
    section = report.split(list_scale.SEARCH_HEADING)[1]
    assert len(VERDICT.findall(section)) == 2 * len(searches.SCENARIOS)
    assert "admin: whole bank, policy number" in section
