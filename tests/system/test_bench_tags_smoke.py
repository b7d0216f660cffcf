"""A smoke run of bench/tags.py at a few hundred customers: not timed, it checks that the
harness tags the bank, measures each list by tag against its SQL and the settings save on
both backends, and reports each figure with a target and a verdict, in its section and in
the summary's rows."""

from __future__ import annotations

import re

from bench import tags

CUSTOMERS = 600
VERDICT = re.compile(r"\| (meets|misses) \|")


def test_tags_benchmark_reports_each_list_and_the_settings_save_per_backend(bench_urls, tmp_path):
    out = tmp_path / "performance.md"
    out.write_text("# Performance\n\nIntro.\n\n## Another benchmark\n\nKept.\n", encoding="utf-8")

    results = tags.run_benchmark(bench_urls, CUSTOMERS, out, "smoke", samples=3)

    assert [r.backend for r in results] == ["sqlite", "postgresql"]
    for r in results:
        assert [s.name for s in r.tags] == [name for name, *_ in tags.SCENARIOS]
        assert all(len(s.page_ms) == len(s.query_ms) == len(s.floor_ms) == 3 for s in r.tags)
        assert len(r.saves) == 20
    rows = tags.summary_rows(results)
    assert len(rows) == 6 and {row[1] for row in rows} == {"sqlite", "postgresql"}
    text = out.read_text(encoding="utf-8")
    assert "## Another benchmark\n\nKept." in text
    section = text[text.index(tags.HEADING) :]
    # Five lists and the save, per backend.
    assert len(VERDICT.findall(section)) == 2 * (2 * len(tags.SCENARIOS) + 1)
