"""A smoke run of bench/today.py at a few hundred customers: not timed, it checks that the
harness gives the bank its history and a staff member their day on both backends, and
reports both pages with a target and a verdict."""

from __future__ import annotations

import re

from bench import today

CUSTOMERS = 600
VERDICT = re.compile(r"\| (meets|misses) \|")


def test_today_benchmark_reports_both_pages_per_backend(bench_urls, tmp_path):
    out = tmp_path / "performance.md"
    out.write_text("# Performance\n\nIntro.\n\n## Another benchmark\n\nKept.\n", encoding="utf-8")

    results = today.run_benchmark(bench_urls, CUSTOMERS, out, "smoke", samples=5)

    assert [r.backend for r in results] == ["sqlite", "postgresql"]
    for r in results:
        assert r.history_rows == CUSTOMERS  # one held experience per customer
        assert r.book == min(CUSTOMERS, today.BOOK)
        assert len(r.today_ms) == len(r.dossier_ms) == len(r.layout_ms) == 5
        # The today page's lists carry their totals; the suggestions read the matrix with the
        # history in one statement: a dozen or so in all, whatever the size of the book. A
        # dossier with a complaint or a call-back open reads those too, and its summary and
        # activity timeline three more (tests/system/test_bench_web_smoke.py).
        assert 8 <= r.today_statements <= 14
        assert 6 <= r.dossier_statements <= 15
        assert r.effect_job_ms > 0

    rows = today.summary_rows(results)
    assert len(rows) == 4 and {row[1] for row in rows} == {"sqlite", "postgresql"}
    text = out.read_text(encoding="utf-8")
    assert "## Another benchmark\n\nKept." in text
    section = text[text.index(today.HEADING) :]
    assert len(VERDICT.findall(section)) == 4
