"""Smoke run of bench/transition.py at a few tens of thousands of events.

Not a timed test: it checks that the benchmark runs, that its generated events have the
shape the loader gives (a first placement per customer, each move from the quadrant before),
that the product's matrix equals DuckDB's answer to the same question, and that it writes
its own section of the report (to a temporary file, never docs/). The figures at 10,000,000
events come from ``make bench``.
"""

from __future__ import annotations

import re

import pandas as pd

from analytics.quadrants import transition_matrix
from bench import transition

ROW = re.compile(
    r"^\| (\d+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| 2\.0 \| (meets|misses) "
    r"\| ([\d.]+) \| ([\d.]+) \|$"
)


def test_generated_events_are_a_consistent_history():
    events = transition.generate(20_000, 2_000, seed=1)
    assert len(events) == 20_000 and events["customer"].nunique() == 2_000
    firsts = events.groupby("customer").head(1)
    assert firsts["from_quadrant"].isna().all()
    later = events.drop(firsts.index)
    assert later["from_quadrant"].notna().all()
    previous = events.groupby("customer")["to_quadrant"].shift().loc[later.index]
    assert (later["from_quadrant"].astype(str) == previous.astype(str)).all()
    assert (later["from_quadrant"].astype(str) != later["to_quadrant"].astype(str)).all()
    assert events.groupby("customer")["at"].apply(lambda s: s.is_monotonic_increasing).all()


def test_benchmark_reports_its_ratio_and_the_matrix_duckdb_agrees_with(tmp_path):
    out = tmp_path / "performance.md"
    out.write_text("# Performance\n\n## Another benchmark\n\nKept.\n", encoding="utf-8")

    result = transition.run_benchmark(
        30_000, 3_000, repeat=2, out=out, command="smoke", warmup=0, log=lambda _: None
    )

    report = out.read_text(encoding="utf-8")
    assert "## Another benchmark\n\nKept." in report
    assert report.count(transition.HEADING) == 1
    rows = [m for line in report.splitlines() if (m := ROW.match(line))]
    assert len(rows) == 1
    events, floor, product = (float(rows[0][i]) for i in (1, 2, 3))
    assert events == 30_000 and floor > 0 and product > 0
    assert rows[0][4] == f"{result.ratio:.2f}" and rows[0][5] == result.verdict
    assert "Rerun: `smoke`" in report
    # The matrix counts every customer placed by the start once.
    frame = transition.generate(30_000, 3_000)
    expected = transition_matrix(frame, transition.START, transition.END)
    assert (result.matrix.to_numpy() == expected.to_numpy()).all()
    placed = frame.loc[frame.groupby("customer")["at"].idxmin()]
    start = pd.Timestamp(transition.START, tz=transition.ZONE) + pd.Timedelta(days=1)
    assert result.matrix.to_numpy().sum() == (placed["at"] < start).sum()
