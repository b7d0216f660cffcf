"""Smoke run of bench/reports.py on a small branch: not timed against its target, it checks
that the benchmark renders the three reports, measures their cells and writes its section
(to a temporary file, never docs/)."""

from __future__ import annotations

import re

from bench import reports

CUSTOMERS = 1_000
ROW = re.compile(
    r"^\| sqlite \| (migration|effectiveness|followup) \| 1,000 \| ([\d.]+) \| ([\d.]+) "
    r"\| ([\d.]+) \| < 60 \| (meets|misses) \|$"
)


def test_reports_benchmark_renders_each_report_and_writes_its_section(bench_urls, tmp_path):
    out = tmp_path / "performance.md"
    out.write_text("# Performance\n\n## Another benchmark\n\nKept.\n", encoding="utf-8")

    [result] = reports.run_benchmark(
        {"sqlite": bench_urls["sqlite"]}, CUSTOMERS, 1, out, "smoke", log=lambda _: None
    )

    assert result.history["experiences"] == 2 * CUSTOMERS
    assert result.history["quadrant moves"] > 0 and result.history["call-backs"] > 0
    text = out.read_text(encoding="utf-8")
    assert "## Another benchmark\n\nKept." in text
    rows = [m.groups() for line in text.splitlines() if (m := ROW.match(line))]
    assert sorted(r[0] for r in rows) == ["effectiveness", "followup", "migration"]
    for _kind, cells, whole, _ratio, _verdict in rows:
        assert 0 < float(cells) < float(whole)
