"""Smoke run of the import benchmark (bench/importer.py) at a few hundred customers.

Not a timed test: it checks that the benchmark runs on both backends, that the floor writes
exactly the rows the import wrote, and that it writes its section of the report (to a
temporary file, never docs/). The figures at 100,000 customers come from ``make bench``.
"""

from __future__ import annotations

import re

import pytest

from bench import importer

CUSTOMERS = 300
# backend | customers | floor median s | of which customer table s | import median s | ratio
ROW = re.compile(
    r"^\| (sqlite|postgresql) \| (\d+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| 3\.0 "
    r"\| (meets|misses) \|$"
)


def test_import_benchmark_reports_a_ratio_per_backend_over_the_same_rows(bench_urls, tmp_path):
    out = tmp_path / "performance.md"
    out.write_text("# Performance\n\n## Another benchmark\n\nKept.\n", encoding="utf-8")

    results = importer.run_benchmark(
        bench_urls, CUSTOMERS, 200, repeat=1, out=out, command="smoke", warmup=0, log=lambda _: None
    )

    report = out.read_text(encoding="utf-8")
    assert "## Another benchmark\n\nKept." in report
    assert report.count(importer.HEADING) == 1
    rows = {m[1]: m for line in report.splitlines() if (m := ROW.match(line))}
    assert set(rows) == {"sqlite", "postgresql"}
    for result in results:
        customers, floor, table, product, ratio = (
            float(rows[result.backend][i]) for i in range(2, 7)
        )
        assert customers == CUSTOMERS and 0 < table < floor and product > 0
        # The table shows the medians this run measured, and their ratio.
        assert floor == pytest.approx(result.floor_median, abs=0.0005)
        assert product == pytest.approx(result.product_median, abs=0.0005)
        assert ratio == pytest.approx(result.ratio, abs=0.005)
        # Each customer: its row, one first quadrant event, one audit row; and the import's row.
        written = result.written
        assert written["customer"] == written["quadrant_event"] == CUSTOMERS
        assert written["audit_log"] == CUSTOMERS + 1 and written["customer_tag"] > 0
    assert [r.backend for r in results] == ["sqlite", "postgresql"]
    # Same file, same rules: the same rows on both backends.
    assert results[0].written == results[1].written
