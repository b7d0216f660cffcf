"""A smoke run of bench/web.py and of `make bench`'s summary (bench/run.py) at a few hundred
customers: not timed, it checks that the harness runs on both backends, drives a real
gunicorn, and reports every figure with a target and a verdict."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from bench import lists, run, sorted_lists, web

CUSTOMERS = 600
VERDICT = re.compile(r"\| (meets|misses) \|")


def test_web_benchmark_reports_every_figure_per_backend(bench_urls, tmp_path):
    out = tmp_path / "performance.md"
    out.write_text("# Performance\n\nIntro.\n\n## Another benchmark\n\nKept.\n", encoding="utf-8")

    results = web.run_benchmark(
        bench_urls,
        CUSTOMERS,
        repeat=1,
        out=out,
        command="smoke",
        samples=5,
        seconds=0.5,
        log=lambda _: None,
    )

    assert [r.backend for r in results] == ["sqlite", "postgresql"]
    for r in results:
        assert len(r.lists) == len(lists.SCENARIOS)
        assert all(len(s.page_ms) == 5 and len(s.query_ms) == 5 for s in r.lists)
        assert len(r.sorts) == len(sorted_lists.SCENARIOS) == 21
        assert all(len(s.page_ms) == 5 and len(s.floor_ms) == 5 for s in r.sorts)
        assert len(r.header_ms) == 5
        assert len(r.dossier_ms) == 5 and len(r.hello_ms) == 5 and len(r.layout_ms) == 5
        # Its sections in a few statements: the staff member, the profile (with its tags), the
        # history, the experiences, the policies, the budget, the moves, the unread count; the
        # summary's last contact and the activity timeline's experiences and edits (its other
        # kinds only for a customer who has any). A fixed count, whatever the customer holds.
        assert 6 <= r.dossier_statements <= 12
        # gunicorn answered all three, the layout signed in (a redirect would fail the run)
        assert r.hello_rps[0] > 0 and r.layout_rps[0] > 0 and r.dossier_rps[0] > 0
        assert len(r.rss_mb) == 2 and all(mb > 10 for mb in r.rss_mb)  # two real workers

    rows = run.web.summary_rows(results)
    assert len(rows) == 14 and {row[1] for row in rows} == {"sqlite", "postgresql"}

    lines = run.summary_lines("web", rows, datetime.now(UTC))
    run.write_summary(out, run.render_summary(lines, {"sqlite": "3"}, datetime.now(UTC)))
    report = out.read_text(encoding="utf-8")
    assert "- postgresql: hello " in report and "SQL statements" in report
    assert "of the layout's rate" in report
    assert report.index("## Summary") < report.index(web.HEADING)
    assert report.index("Intro.") < report.index("## Summary")
    assert "## Another benchmark\n\nKept." in report
    assert len(VERDICT.findall(report.split(web.HEADING)[0])) == 14
    assert "header search" in report and "by liquid assets" in report
    # Rewriting keeps one summary.
    run.write_summary(out, run.render_summary(lines, {"sqlite": "3"}, datetime.now(UTC)))
    assert out.read_text(encoding="utf-8").count("## Summary") == 1


def test_make_bench_runs_the_chosen_benchmarks_and_writes_the_summary(tmp_path, capsys):
    out = tmp_path / "performance.md"
    argv = ["--customers", "500", "--backends", "sqlite", "--repeat", "1", "--warmup", "0"]
    assert run.main([*argv, "--only", "retier,transition", "--out", str(out)]) == 0

    summary = out.read_text(encoding="utf-8").split("\n## ")[1]
    rows = [line for line in summary.splitlines() if VERDICT.search(line)]
    assert len(rows) == 2
    assert rows[0].startswith(
        "| `bench.retier` | re-tier vs bare UPDATE … CASE | sqlite | ≤ 1.3× |"
    )
    assert rows[1].startswith(
        "| `bench.transition` | transition matrix over 5,000 events vs DuckDB"
    )
    assert "## Re-tier after a threshold change" in out.read_text(encoding="utf-8")

    # A later run of one benchmark keeps the other's row.
    assert run.main([*argv, "--only", "transition", "--out", str(out)]) == 0
    summary = out.read_text(encoding="utf-8").split("\n## ")[1]
    rows = [line for line in summary.splitlines() if VERDICT.search(line)]
    assert [row.split("`")[1] for row in rows] == ["bench.retier", "bench.transition"]


def test_list_at_scale_runs_on_postgresql_and_reports_its_target(bench_urls, tmp_path):
    from bench import list_scale

    out = tmp_path / "performance.md"
    results = list_scale.run_benchmark(
        {"postgresql": bench_urls["postgresql"]},
        CUSTOMERS,
        out=out,
        command="smoke",
        samples=5,
        log=lambda _: None,
    )

    assert [r.backend for r in results] == ["postgresql"]
    assert all(len(s.page_ms) == 5 for s in results[0].lists)
    rows = list_scale.summary_rows(results)
    assert [row[2] for row in rows] == ["≤ 100 ms", "≤ 3×"]
    assert rows[0][0] == "customer list page p95 at 600 customers (worst of 5 lists)"
    report = out.read_text(encoding="utf-8")
    assert list_scale.HEADING in report and len(VERDICT.findall(report)) == len(lists.SCENARIOS)


def test_make_bench_leaves_out_a_benchmark_of_another_backend(tmp_path, capsys):
    out = tmp_path / "performance.md"
    argv = ["--customers", "500", "--backends", "sqlite", "--repeat", "1", "--warmup", "0"]
    assert run.main([*argv, "--only", "list_scale,transition", "--out", str(out)]) == 0
    assert "list_scale: only on postgresql, left out" in capsys.readouterr().out
    assert "bench.list_scale" not in out.read_text(encoding="utf-8")
