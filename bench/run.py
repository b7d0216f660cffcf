"""`make bench`: every benchmark at one bank size, one after another, and a summary table.

Each benchmark builds its synthetic bank in throwaway databases (SQLite and PostgreSQL),
measures against its floor in the same run, and rewrites its own section of
`docs/performance.md`; this script then writes the "Summary" section at the top: one row per
figure, with its target, the measured value and the verdict.

    .venv/bin/python -m bench.run                      # 1,000,000 customers, everything
    .venv/bin/python -m bench.run --customers 100000   # a smaller bank
    .venv/bin/python -m bench.run --only web,planner   # some of them

The transition matrix runs over ten events per customer (10,000,000 at a million) and the
customer list is also measured at ten times the bank (10,000,000 customers at a million,
PostgreSQL only); the import and the dispatcher keep their own sizes (100,000 rows, 100,000
messages).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import (
    churn,
    dashboard,
    dispatch,
    experiment_coverage,
    experiments,
    importer,
    list_scale,
    pipeline,
    planner,
    reports,
    retier,
    searches,
    tags,
    team,
    today,
    transition,
    web,
)
from bench.common import BACKENDS, FILE_HEADER, _backends, machine, throwaway_database

Row = tuple[str, str, str, str, str]  # measure, backend, target, measured, verdict
SUMMARY = "## Summary"


def _ratio_rows(measure: Callable[[object], str], target: float) -> Callable[..., list[Row]]:
    """Rows of a benchmark whose figure is a ratio to its floor, one per backend."""

    def rows(results) -> list[Row]:
        return [
            (measure(r), r.backend, f"≤ {target:g}×", f"{r.ratio:.2f}×", r.verdict) for r in results
        ]

    return rows


def _dispatch_rows(results) -> list[Row]:
    return [
        (
            "dispatcher bookkeeping",
            r.backend,
            f"≥ {dispatch.TARGET_RATE:,}/s",
            f"{r.rate:,.0f}/s",
            r.verdict,
        )
        for r in results
    ]


def _transition_rows(result) -> list[Row]:
    return [
        (
            f"transition matrix over {result.events:,} events vs DuckDB group-by",
            "in memory",
            f"≤ {transition.TARGET:.0f}×",
            f"{result.ratio:.2f}×",
            result.verdict,
        )
    ]


def _coverage_rows(result) -> list[Row]:
    what = {"visit": "covers the true effect", "event": "covers zero where there is none"}
    return [
        (
            f"experiment report's 95% interval {what[name]}, {result.seeds} seeds",
            "sqlite",
            f"≥ {experiment_coverage.TARGET:.0%}",
            f"{result.coverage(name):.0%}",
            result.verdict(name),
        )
        for name in experiment_coverage.DESIGNS
    ]


def _experiments_rows(results) -> list[Row]:
    rows: list[Row] = []
    for r in results:
        for measure, ratio in (
            (f"experiment assignment of {r.assigned:,} vs bulk insert", r.assign_ratio),
            (f"experiment report over {r.experiences:,} experiences vs DuckDB", r.report_ratio),
        ):
            target = f"≤ {experiments.TARGET:g}×"
            rows.append((measure, r.backend, target, f"{ratio:.2f}×", r.verdict_of(ratio)))
    return rows


@dataclass
class Step:
    name: str
    run: Callable[[dict[str, str], argparse.Namespace, str], object]
    rows: Callable[[object], list[Row]]
    databases: bool = True  # False: measured on in-memory frames, no database
    backends: tuple[str, ...] = BACKENDS  # those it is measured on, of the ones asked for


def _command(module: str, args: argparse.Namespace, sizes: str, backends: list[str]) -> str:
    if module == "bench.experiment_coverage":
        return f".venv/bin/python -m {module} {sizes}"
    if module == "bench.reports":  # one render of each report is a minute's work already
        return f".venv/bin/python -m {module} {sizes} --backends sqlite --repeat 1 --warmup 0"
    if module == "bench.transition":
        return (
            f".venv/bin/python -m {module} {sizes} --repeat {max(args.repeat, 5)} "
            f"--warmup {args.warmup} --out {args.out}"
        )
    return (
        f".venv/bin/python -m {module} {sizes} --backends {','.join(backends)} "
        f"--repeat {args.repeat} --warmup {args.warmup} --out {args.out}"
    )


STEPS: list[Step] = [
    Step(
        "retier",
        lambda urls, a, cmd: retier.run_benchmark(
            urls, a.customers, a.repeat, a.out, cmd, a.warmup
        ),
        _ratio_rows(lambda r: "re-tier vs bare UPDATE … CASE", retier.TARGET),
    ),
    Step(
        "planner",
        lambda urls, a, cmd: planner.run_benchmark(
            urls, a.customers, a.repeat, a.out, cmd, a.warmup
        ),
        _ratio_rows(lambda r: "planner four weeks ahead vs bulk insert", planner.TARGET),
    ),
    Step(
        "churn",
        lambda urls, a, cmd: churn.run_benchmark(urls, a.customers, a.repeat, a.out, cmd, a.warmup),
        _ratio_rows(lambda r: "churn-score vs bare SQL aggregate of its signals", churn.TARGET),
    ),
    Step(
        "dispatch",
        lambda urls, a, cmd: dispatch.run_benchmark(
            urls,
            dispatch.DEFAULT_CUSTOMERS,
            dispatch.DEFAULT_MESSAGES,
            a.repeat,
            a.out,
            cmd,
            a.warmup,
        ),
        _dispatch_rows,
    ),
    Step(
        "importer",
        lambda urls, a, cmd: importer.run_benchmark(
            urls,
            importer.DEFAULT_CUSTOMERS,
            importer.DEFAULT_EXISTING,
            a.repeat,
            a.out,
            cmd,
            a.warmup,
        ),
        _ratio_rows(lambda r: f"import {r.customers:,} customers vs bulk insert", importer.TARGET),
    ),
    Step(
        "transition",
        lambda urls, a, cmd: transition.run_benchmark(
            10 * a.customers, a.customers, max(a.repeat, 5), a.out, cmd, a.warmup
        ),
        _transition_rows,
        databases=False,
    ),
    Step(
        "experiments",
        lambda urls, a, cmd: experiments.run_benchmark(
            urls, a.customers, a.repeat, a.out, cmd, a.warmup
        ),
        _experiments_rows,
    ),
    Step(
        "experiment_coverage",
        lambda urls, a, cmd: experiment_coverage.run_benchmark(cmd),
        _coverage_rows,
        databases=False,
    ),
    Step(
        "reports",
        # The size: one branch of 50,000 customers, whatever the bank's size.
        lambda urls, a, cmd: reports.run_benchmark(
            urls, min(a.customers, reports.DEFAULT_CUSTOMERS), 1, a.out, cmd, 0
        ),
        reports.summary_rows,
        backends=("sqlite",),
    ),
    Step(
        "web",
        lambda urls, a, cmd: web.run_benchmark(urls, a.customers, a.repeat, a.out, cmd),
        lambda results: web.summary_rows(results) + searches.summary_rows(results),
    ),
    Step(
        "tags",
        lambda urls, a, cmd: tags.run_benchmark(urls, a.customers, a.out, cmd, web.SAMPLES),
        tags.summary_rows,
    ),
    Step(
        "today",
        lambda urls, a, cmd: today.run_benchmark(urls, a.customers, a.out, cmd),
        today.summary_rows,
    ),
    Step(
        "team",
        lambda urls, a, cmd: team.run_benchmark(urls, a.customers, a.repeat, a.out, cmd, a.warmup),
        team.summary_rows,
    ),
    Step(
        "dashboard",
        lambda urls, a, cmd: dashboard.run_benchmark(
            urls, a.customers, max(a.repeat, 30), a.out, cmd, a.warmup
        ),
        dashboard.summary_rows,
    ),
    Step(
        "list_scale",
        lambda urls, a, cmd: list_scale.run_benchmark(
            urls, 10 * a.customers, a.out, cmd, searches=True
        ),
        lambda results: list_scale.summary_rows(results) + list_scale.search_summary_rows(results),
        backends=("postgresql",),
    ),
]

STEPS.append(
    Step(
        "pipeline",
        lambda urls, a, cmd: pipeline.run_benchmark(
            urls, a.customers, a.repeat, a.out, cmd, a.warmup
        ),
        pipeline.summary_rows,
    )
)

SIZES = {
    "retier": lambda a: f"--customers {a.customers}",
    "planner": lambda a: f"--customers {a.customers}",
    "churn": lambda a: f"--customers {a.customers}",
    "dispatch": lambda a: (
        f"--customers {dispatch.DEFAULT_CUSTOMERS} --messages {dispatch.DEFAULT_MESSAGES}"
    ),
    "importer": lambda a: (
        f"--customers {importer.DEFAULT_CUSTOMERS} --existing {importer.DEFAULT_EXISTING}"
    ),
    "transition": lambda a: f"--events {10 * a.customers} --customers {a.customers}",
    "experiments": lambda a: f"--customers {a.customers}",
    "experiment_coverage": lambda a: (
        f"--seeds {experiment_coverage.DEFAULT_SEEDS} "
        f"--customers {experiment_coverage.DEFAULT_CUSTOMERS}"
    ),
    "reports": lambda a: f"--customers {min(a.customers, reports.DEFAULT_CUSTOMERS)}",
    "web": lambda a: f"--customers {a.customers}",
    "tags": lambda a: f"--customers {a.customers}",
    "today": lambda a: f"--customers {a.customers}",
    "pipeline": lambda a: f"--customers {a.customers}",
    "team": lambda a: f"--customers {a.customers}",
    "dashboard": lambda a: f"--customers {a.customers}",
    "list_scale": lambda a: f"--customers {10 * a.customers}",
}


def render_summary(lines: list[str], versions: dict[str, str], started: datetime) -> str:
    head = [
        SUMMARY,
        "",
        f"- Last run: {started:%Y-%m-%d %H:%M} UTC (`make bench`), on {machine(versions)}",
        "- Each row is dated: a benchmark left out of a run (`--only`) keeps its last figures.",
        "",
        "| benchmark | measure | backend | target | measured | verdict | date |",
        "|---|---|---|---:|---:|---|---|",
    ]
    return "\n".join(head + lines) + "\n"


def summary_lines(step: str, rows: list[Row], started: datetime) -> list[str]:
    return [
        f"| `bench.{step}` | {m} | {b} | {t} | {v} | {verdict} | {started:%Y-%m-%d} |"
        for m, b, t, v, verdict in rows
    ]


def earlier_lines(path: Path, rerun: set[str]) -> list[str]:
    """The previous summary's rows of the benchmarks not run this time."""
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    if SUMMARY + "\n" not in text:
        return []
    section = text[text.index(SUMMARY + "\n") :].split("\n## ", 1)[0]
    return [
        line
        for line in section.splitlines()
        if line.startswith("| `bench.") and line.split("`")[1].removeprefix("bench.") not in rerun
    ]


def write_summary(path: Path, section: str) -> None:
    """The summary goes first, after the file's header; the sections follow as they were."""
    text = path.read_text(encoding="utf-8") if path.exists() else FILE_HEADER
    if SUMMARY + "\n" in text:
        start = text.index(SUMMARY + "\n")
        end = text.find("\n## ", start + len(SUMMARY))
        text = text[:start] + (text[end + 1 :] if end != -1 else "")
    head, sep, rest = text.partition("\n## ")
    text = head.rstrip("\n") + "\n\n" + section + ("\n## " + rest if sep else "")
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--backends", type=_backends, default=list(BACKENDS))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("docs/performance.md"))
    parser.add_argument("--only", type=lambda v: [s.strip() for s in v.split(",") if s.strip()])
    args = parser.parse_args(argv)
    names = [s.name for s in STEPS]
    chosen = args.only or names
    if set(chosen) - set(names):
        parser.error(f"--only: choose from {', '.join(names)}")
    started = datetime.now(UTC)
    lines: list[str] = []
    versions: dict[str, str] = {}
    for step in STEPS:
        if step.name not in chosen:
            continue
        backends = [b for b in args.backends if b in step.backends]
        if step.databases and not backends:
            print(f"=== {step.name}: only on {', '.join(step.backends)}, left out ===")
            continue
        print(f"=== {step.name} ===", flush=True)
        began = time.perf_counter()
        command = _command(f"bench.{step.name}", args, SIZES[step.name](args), backends)
        with contextlib.ExitStack() as stack:
            backends = backends if step.databases else []
            urls = {b: stack.enter_context(throwaway_database(b)) for b in backends}
            results = step.run(urls, args, command)
        for r in results if step.databases else []:
            versions[r.backend] = r.version
        lines += summary_lines(step.name, step.rows(results), started)
        print(f"=== {step.name}: {time.perf_counter() - began:.0f} s ===", flush=True)
    order = [s.name for s in STEPS]
    lines += earlier_lines(args.out, set(chosen))
    lines.sort(key=lambda line: order.index(line.split("`")[1].removeprefix("bench.")))
    section = render_summary(lines, versions, started)
    write_summary(args.out, section)
    print(section)
    print(f"Wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
