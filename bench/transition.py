"""Benchmark: the transition matrix over 10,000,000 quadrant events, against DuckDB group-bys.

What is measured. N quadrant events (default 10,000,000) of M customers (default 1,000,000)
are generated in memory, vectorised: each customer's first placement, then moves, each to
a quadrant other than the one before (so ``from_quadrant`` is the previous ``to_quadrant``),
at times spread over two years, with a cause. The frame has the columns and types that
``analytics.load.quadrant_events`` returns (customer, categorical quadrants and cause, aware
times in the business's zone) and its order (by customer, then time). Timed with
``time.perf_counter``, on that one frame:

- the product: ``analytics.transition_matrix(events, start, end)``, each customer's quadrant
  as of the start against as of the end, 4×4 counts (it checks the order as it goes);
- the floor: a DuckDB group-by of the same events, the query an analyst would write for
  moves in the period: ``SELECT from_quadrant, to_quadrant, count(*) … WHERE at in the
  period GROUP BY ALL``. It reads every event once and answers a simpler question (it counts
  moves, not where customers ended up), so it is the strictest floor;
- for reference, DuckDB answering the same question: ``arg_max`` of the quadrant per
  customer up to each date, joined, grouped. Its matrix must equal the product's (checked
  on every run).

Why it is fair. All three read the same frame in the same process (DuckDB scans the pandas
frame in place, with its default threads, one per CPU; the product uses one thread per CPU
up to four). They alternate, floor first in even rounds, after an untimed warm-up of each.
The figure is the ratio of the medians, product / floor; the target is 2×.

Run: ``python -m bench.transition [--events N] [--customers M] [--repeat 5] [--warmup 1]
[--out docs/performance.md]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from analytics.quadrants import CAUSE_TYPE, QUADRANT_TYPE, QUADRANTS, transition_matrix
from bench.common import REPORT, write_section

DEFAULT_EVENTS = 10_000_000
DEFAULT_CUSTOMERS = 1_000_000
TARGET = 2.0
HEADING = "## Transition matrix over quadrant events"
ZONE = "Asia/Shanghai"
FIRST = pd.Timestamp("2025-01-01", tz=ZONE)
SPAN = pd.Timedelta(days=730)
START, END = "2025-06-30", "2026-06-30"  # as of the end of each day

FLOOR_SQL = (
    "SELECT from_quadrant, to_quadrant, count(*) AS n FROM events "
    'WHERE "at" >= $start AND "at" < $end GROUP BY ALL'
)
SAME_SQL = """
WITH first AS (
    SELECT customer, arg_max(to_quadrant, "at") AS q FROM events
    WHERE "at" < $start GROUP BY customer
), last AS (
    SELECT customer, arg_max(to_quadrant, "at") AS q FROM events
    WHERE "at" < $end GROUP BY customer
)
SELECT first.q AS "from", last.q AS "to", count(*) AS n
FROM first JOIN last USING (customer) GROUP BY ALL
"""


def generate(events: int, customers: int, seed: int = 2026) -> pd.DataFrame:
    """``events`` quadrant events of ``customers`` customers, sorted by customer and time."""
    if customers > events:
        raise ValueError("every customer needs at least one event")
    rng = np.random.default_rng(seed)
    # Every customer gets one event; the rest fall on customers at random.
    extra = rng.integers(0, customers, events - customers)
    counts = np.bincount(extra, minlength=customers) + 1
    customer = np.repeat(np.arange(1, customers + 1, dtype=np.int64), counts)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    first_event = np.zeros(events, dtype=bool)
    first_event[starts] = True
    # Times: random microseconds within the span (ties all but impossible, so "the last
    # event before" is one event), sorted within each customer.
    offsets = rng.integers(0, SPAN // pd.Timedelta(microseconds=1), events)
    offsets = offsets[np.lexsort((offsets, customer))]
    at = FIRST + pd.to_timedelta(offsets, unit="us")
    # Quadrants: a first placement anywhere, then each move to one of the three others.
    step = rng.integers(1, 4, events)
    step[first_event] = rng.integers(0, 4, customers)
    # Running sum of steps per customer, mod 4: reset at each customer's first event.
    total = np.cumsum(step)
    total -= np.repeat(total[starts] - step[starts], counts)
    to_codes = (total % 4).astype(np.int8)
    from_codes = np.concatenate(([-1], to_codes[:-1])).astype(np.int8)
    from_codes[first_event] = -1
    causes = rng.integers(0, len(CAUSE_TYPE.categories), events).astype(np.int8)
    return pd.DataFrame(
        {
            "customer": customer,
            "from_quadrant": pd.Categorical.from_codes(from_codes, dtype=QUADRANT_TYPE),
            "to_quadrant": pd.Categorical.from_codes(to_codes, dtype=QUADRANT_TYPE),
            "cause": pd.Categorical.from_codes(causes, dtype=CAUSE_TYPE),
            "at": pd.Series(at).dt.tz_convert(ZONE).astype(f"datetime64[us, {ZONE}]"),
        }
    )


@dataclass
class Result:
    events: int
    customers: int
    floor: list[float] = field(default_factory=list)
    product: list[float] = field(default_factory=list)
    same: list[float] = field(default_factory=list)
    matrix: pd.DataFrame | None = None
    moves_in_period: int = 0

    @property
    def ratio(self) -> float:
        return statistics.median(self.product) / statistics.median(self.floor)

    @property
    def ratio_same(self) -> float:
        return statistics.median(self.product) / statistics.median(self.same)

    @property
    def verdict(self) -> str:
        return "meets" if self.ratio <= TARGET else "misses"


def _bounds() -> dict[str, datetime]:
    """The period's bounds as instants: the ends of the start and end days."""
    return {
        "start": (pd.Timestamp(START, tz=ZONE) + pd.Timedelta(days=1)).to_pydatetime(),
        "end": (pd.Timestamp(END, tz=ZONE) + pd.Timedelta(days=1)).to_pydatetime(),
    }


def time_product(events: pd.DataFrame) -> tuple[float, pd.DataFrame]:
    started = time.perf_counter()
    matrix = transition_matrix(events, START, END)
    return time.perf_counter() - started, matrix


def time_floor(connection, events: pd.DataFrame) -> tuple[float, int]:
    started = time.perf_counter()
    rows = connection.execute(FLOOR_SQL, _bounds()).fetchall()
    return time.perf_counter() - started, sum(n for *_, n in rows)


def time_same(connection, events: pd.DataFrame) -> tuple[float, pd.DataFrame]:
    started = time.perf_counter()
    rows = connection.execute(SAME_SQL, _bounds()).fetchall()
    seconds = time.perf_counter() - started
    matrix = pd.DataFrame(0, index=pd.Index(QUADRANTS, name="from"), columns=QUADRANTS)
    for source, target, n in rows:
        matrix.loc[source, target] = n
    matrix.columns.name = "to"
    return seconds, matrix


def measure(events: pd.DataFrame, repeat: int, warmup: int, log=print) -> Result:
    import duckdb

    connection = duckdb.connect()
    connection.register("events", events)
    result = Result(len(events), int(events["customer"].nunique()))
    for _ in range(warmup):
        time_product(events)
        time_floor(connection, events)
        time_same(connection, events)
    for round_number in range(repeat):
        steps = (
            ("floor", "product", "same") if round_number % 2 == 0 else ("product", "floor", "same")
        )
        for step in steps:
            if step == "floor":
                seconds, result.moves_in_period = time_floor(connection, events)
                result.floor.append(seconds)
            elif step == "product":
                seconds, matrix = time_product(events)
                result.product.append(seconds)
                result.matrix = matrix
            else:
                seconds, same = time_same(connection, events)
                result.same.append(seconds)
        if not (result.matrix.to_numpy() == same.to_numpy()).all():
            raise RuntimeError(f"the matrices differ:\n{result.matrix}\nDuckDB:\n{same}")
        log(
            f"  round {round_number + 1}: floor {result.floor[-1]:.3f} s, "
            f"product {result.product[-1]:.3f} s, DuckDB same answer {result.same[-1]:.3f} s"
        )
    connection.close()
    return result


def machine() -> str:
    import duckdb

    return (
        f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"numpy {np.__version__}, pandas {pd.__version__}, DuckDB {duckdb.__version__}"
    )


def render_table(result: Result) -> str:
    med = statistics.median
    return "\n".join(
        [
            "| events | floor median s | product median s | ratio | target | verdict "
            "| DuckDB same answer median s | product / same |",
            "|---:|---:|---:|---:|---:|---|---:|---:|",
            f"| {result.events} | {med(result.floor):.4f} | {med(result.product):.4f} "
            f"| {result.ratio:.2f} | {TARGET:.1f} | {result.verdict} "
            f"| {med(result.same):.4f} | {result.ratio_same:.2f} |",
        ]
    )


def render_section(result: Result, command: str) -> str:
    runs = (
        f"- floor {', '.join(f'{s:.4f}' for s in result.floor)}\n"
        f"- product {', '.join(f'{s:.4f}' for s in result.product)}\n"
        f"- DuckDB same answer {', '.join(f'{s:.4f}' for s in result.same)}"
    )
    matrix = result.matrix.to_string() if result.matrix is not None else ""
    return f"""{HEADING}

Requirement: the transition matrix over 10,000,000 quadrant events takes at most
{TARGET:.0f}× a DuckDB group-by of the same events, side by side in one run
(`bench/transition.py`; its docstring says what each side does and why it is fair).

- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC
- Machine: {machine()}
- Events: {result.events:,} of {result.customers:,} customers over two years from
  {FIRST:%Y-%m-%d}, in memory as `analytics.load.quadrant_events` returns them.
- Period: as of the end of {START} to as of the end of {END}; {result.moves_in_period:,}
  events fall in it.
- Floor: `{FLOOR_SQL}` (DuckDB, scanning the pandas frame). Product:
  `analytics.transition_matrix(events, "{START}", "{END}")`. Reference: DuckDB computing
  the same matrix (`arg_max` per customer at each date, joined), whose matrix equals the
  product's on every run. Medians of {len(result.floor)} runs each, alternating.

{render_table(result)}

Every run, in seconds:

{runs}

The matrix (rows: quadrant at the start; columns: at the end):

```
{matrix}
```

Rerun: `{command}`
"""


def run_benchmark(
    events: int, customers: int, repeat: int, out: Path, command: str, warmup: int = 1, log=print
) -> Result:
    log(f"generating {events:,} events of {customers:,} customers")
    started = time.perf_counter()
    frame = generate(events, customers)
    log(f"  generated in {time.perf_counter() - started:.1f} s")
    result = measure(frame, repeat, warmup, log)
    log(render_table(result))
    write_section(out, HEADING, render_section(result, command))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.transition", description=__doc__)
    parser.add_argument("--events", type=int, default=DEFAULT_EVENTS)
    parser.add_argument("--customers", type=int, default=DEFAULT_CUSTOMERS)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--out", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    if not 1 <= args.customers <= args.events or args.repeat < 1 or args.warmup < 0:
        parser.error("need 1 <= --customers <= --events, --repeat >= 1, --warmup >= 0")
    command = (
        f".venv/bin/python -m bench.transition --events {args.events} "
        f"--customers {args.customers} --repeat {args.repeat} --warmup {args.warmup} "
        f"--out {REPORT}"
    )
    run_benchmark(args.events, args.customers, args.repeat, args.out, command, args.warmup)
    print(f"Wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
