"""Smoke run of bench/churn.py at a few thousand customers: not timed, it checks that the
benchmark runs on both backends, writes its section (to a temporary file, never docs/) and
leaves the book scored as a plain ``flask crm churn-score`` scores it."""

from __future__ import annotations

import re

import sqlalchemy as sa

from bench import churn

CUSTOMERS = 3_000
# backend | scored | changed | floor s | product s | ratio | target | verdict | first s
ROW = re.compile(
    r"^\| (sqlite|postgresql) \| (\d+) \| (\d+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| 2\.0 "
    r"\| (meets|misses) \| ([\d.]+) \|$"
)


def stored_levels(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT churn_level, count(*) FROM customer GROUP BY churn_level"
            ).all()
    finally:
        engine.dispose()
    return dict(rows)


def test_churn_benchmark_reports_a_ratio_per_backend_and_scores_everyone(bench_urls, tmp_path):
    out = tmp_path / "performance.md"
    out.write_text("# Performance\n\n## Another benchmark\n\nKept.\n", encoding="utf-8")

    results = churn.run_benchmark(
        bench_urls, CUSTOMERS, repeat=1, out=out, command="smoke", warmup=0, log=lambda _: None
    )

    report = out.read_text(encoding="utf-8")
    assert "## Another benchmark\n\nKept." in report
    assert report.count(churn.HEADING) == 1
    rows = {m[1]: m for line in report.splitlines() if (m := ROW.match(line))}
    assert set(rows) == {"sqlite", "postgresql"}
    levels = {}
    for backend, url in bench_urls.items():
        scored, changed = int(rows[backend][2]), int(rows[backend][3])
        floor, product, ratio = (float(rows[backend][i]) for i in (4, 5, 6))
        assert scored == CUSTOMERS and 0 < changed < CUSTOMERS
        assert floor > 0 and product > 0
        # The times are printed to the millisecond and the ratio to the hundredth: the ratio
        # must lie within what the printed times allow.
        low = (product - 0.0005) / (floor + 0.0005) - 0.005
        high = (product + 0.0005) / max(floor - 0.0005, 1e-9) + 0.005
        assert low <= ratio <= high
        # The book is left scored as of the night before, every customer with a level.
        levels[backend] = stored_levels(url)
        assert sum(levels[backend].values()) == CUSTOMERS and None not in levels[backend]
    # Same customers, same history, same day: the same levels on both backends.
    assert levels["sqlite"] == levels["postgresql"]
    assert [r.backend for r in results] == ["sqlite", "postgresql"]
