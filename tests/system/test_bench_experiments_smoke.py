"""Smoke runs of bench/experiment_coverage.py (two seeds on a small bank) and
bench/experiments.py (a few thousand customers): not timed and not the coverage figure
itself, they check that the whole path runs (create, start and assign, plan, simulate with
a known effect, report), that the truth is read from the simulation's ledger, that the
report's sums equal DuckDB's, and that each writes its own section (to a temporary file,
never docs/). The figures come from ``make bench``."""

from __future__ import annotations

import re
import statistics

from bench import experiment_coverage, experiments

SEEDS = 2
COVERAGE_ROW = re.compile(
    r"^\| (Visits withheld|General events withheld) \| [^|]+ \| (\d+) of (\d+) \| (\d+)% "
    r"\| ≥ 90% \| (meets|misses) \|"
)
SPEED_ROW = re.compile(
    r"^\| (sqlite|postgresql) \| (assignment|report) [^|]+ \| ([\d.]+) \| ([\d.]+) "
    r"\| ([\d.]+) \| 2\.0 \| (meets|misses) \|$"
)


def test_the_coverage_validation_runs_the_whole_path_against_the_ledgers_truth(tmp_path):
    out = tmp_path / "experiments.md"
    out.write_text("# Experiments\n\n## Another section\n\nKept.\n", encoding="utf-8")

    result = experiment_coverage.run_benchmark(
        "smoke", seeds=SEEDS, customers=120, out=out, log=lambda *a, **k: None
    )

    for name in experiment_coverage.DESIGNS:
        runs = result.runs[name]
        assert len(runs) == SEEDS
        for run in runs:
            assert run.treatment > run.holdout > 0
            assert run.low <= run.estimate <= run.high
    # Visits move willingness by 3 points each and the holdout has none: a treated customer
    # gains more on average, by at most 3 points a visit.
    assert all(0 < r.truth <= 3 * 3 for r in result.runs["visit"])

    report = out.read_text(encoding="utf-8")
    assert "## Another section\n\nKept." in report
    assert report.count(experiment_coverage.HEADING) == 1
    rows = {m[1]: m for line in report.splitlines() if (m := COVERAGE_ROW.match(line))}
    assert set(rows) == {"Visits withheld", "General events withheld"}
    for row in rows.values():
        assert int(row[3]) == SEEDS and 0 <= int(row[2]) <= SEEDS
    assert "Rerun: `smoke`" in report


def test_the_speed_benchmark_reports_both_ratios_per_backend(bench_urls, tmp_path):
    out = tmp_path / "performance.md"
    out.write_text("# Performance\n\n## Another benchmark\n\nKept.\n", encoding="utf-8")

    results = experiments.run_benchmark(
        bench_urls, 2_000, repeat=1, out=out, command="smoke", warmup=1, log=lambda _: None
    )

    report = out.read_text(encoding="utf-8")
    assert "## Another benchmark\n\nKept." in report
    rows = [m for line in report.splitlines() if (m := SPEED_ROW.match(line))]
    assert {(m[1], m[2]) for m in rows} == {
        (b, what) for b in bench_urls for what in ("assignment", "report")
    }
    for result in results:
        assert result.assigned == 2_000 and result.experiences == 20_000
        assert f"{result.assign_ratio:.2f}" in report and f"{result.report_ratio:.2f}" in report
        # What keeping the sums costs a write: every customer's held experience, timed.
        assert result.written == 2_000 and len(result.held) == len(result.planned) == 1
        assert (
            f"| {result.backend} | 2,000 held experiences written while it runs vs the same "
            f"rows planned | {statistics.median(result.planned):.3f} "
            f"| {statistics.median(result.held):.3f} | {result.write_ratio:.2f} | none |"
        ) in report
        # What keeping each customer's standing costs a dossier change, with the trigger
        # and without it.
        assert result.changed == 2_000 and len(result.standing) == len(result.standing_off) == 1
        assert (
            f"| {result.backend} | 2,000 dossiers' willingness changed vs the same without the "
            f"trigger | {statistics.median(result.standing_off):.3f} "
            f"| {statistics.median(result.standing):.3f} | {result.standing_ratio:.2f} | none |"
        ) in report
