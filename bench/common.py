"""What every benchmark under bench/ shares: throwaway databases, upkeep between timed runs,
the machine line, and writing one section of docs/performance.md without touching the others.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import sqlalchemy as sa

from crm.extensions import db

FILE_HEADER = """# Performance

Benchmarks of the CRM at bank scale, written by the scripts under `bench/`. Machines are
shared and noisy, so no figure here stands alone: each is a ratio against a floor (the
cheapest statement that does the same work by hand) measured in the same run, in the same
database, side by side.

Rerun them all with `make bench` (`python -m bench.run`), which rewrites the summary and the
sections below; each section names the command that reruns that benchmark alone.
"""


def maintenance(*statements: str) -> None:
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)


def server_version() -> str:
    if db.engine.dialect.name == "postgresql":
        return db.session.scalar(sa.text("SHOW server_version")).split()[0]
    return db.session.scalar(sa.text("SELECT sqlite_version()"))


def machine(versions: dict[str, str]) -> str:
    """The machine and the database versions a run was measured on."""
    return (
        f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"SQLite {versions.get('sqlite', 'not measured')}, "
        f"PostgreSQL {versions.get('postgresql', 'not measured')}"
    )


def write_section(path: Path, heading: str, section: str) -> None:
    """Replace one benchmark's section of the report (or add it), keeping the others."""
    text = path.read_text(encoding="utf-8") if path.exists() else FILE_HEADER
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: section.rstrip("\n") + "\n\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


@contextlib.contextmanager
def throwaway_database(backend: str) -> Iterator[str]:
    """A URL to an empty database that is gone afterwards."""
    if backend == "sqlite":
        folder = tempfile.mkdtemp(prefix="crm-bench-")
        try:
            yield f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    from tests.support.pgserver import PostgresServer

    server = PostgresServer().start()
    try:
        yield server.url
    finally:
        server.stop()


# The report every benchmark writes its section of. A run may write elsewhere first (--out),
# to be merged by hand; the command a section names to rerun it always writes here.
REPORT = Path("docs/performance.md")

# --- the command line every benchmark shares ----------------------------------------------

BACKENDS = ("sqlite", "postgresql")


def _backends(value: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    if not names or set(names) - set(BACKENDS):
        raise argparse.ArgumentTypeError(f"choose from {', '.join(BACKENDS)}")
    return names


def parse_args(
    module: str,
    description: str | None,
    argv: list[str] | None,
    counts: dict[str, int],
    backends: tuple[str, ...] = BACKENDS,
) -> argparse.Namespace:
    """``--backends --repeat --warmup --out`` and one ``--<name> N`` per entry of ``counts``
    (the sizes, with their defaults); ``args.command`` is the line that reruns it."""
    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=description)
    for name, default in counts.items():
        parser.add_argument(f"--{name}", type=int, default=default)
    parser.add_argument("--backends", type=_backends, default=list(backends))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first")
    parser.add_argument("--out", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    if any(getattr(args, name) < 1 for name in counts) or args.repeat < 1 or args.warmup < 0:
        parser.error(
            f"--{', --'.join(counts)} and --repeat must be at least 1, --warmup at least 0"
        )
    sizes = " ".join(f"--{name} {getattr(args, name)}" for name in counts)
    args.command = (
        f".venv/bin/python -m {module} {sizes} --backends {','.join(args.backends)} "
        f"--repeat {args.repeat} --warmup {args.warmup} --out {REPORT}"
    )
    return args


def run_on_throwaway_databases(
    args: argparse.Namespace, run: Callable[[dict[str, str]], object]
) -> int:
    """Call ``run`` with a fresh database URL per chosen backend; they are gone afterwards."""
    with contextlib.ExitStack() as stack:
        run({b: stack.enter_context(throwaway_database(b)) for b in args.backends})
    print(f"Wrote {args.out}")
    return 0


Measure = tuple[Callable[[], float], list[float]]


def side_by_side(round_number: int, timed: bool, floor: Measure, product: Measure) -> None:
    """One round of a pair measured side by side: each ``(run, times)`` run once, the floor
    first on even rounds and the product first on odd ones, so that neither always warms
    the cache for the other; the seconds each run returns kept in its ``times`` when the
    round is timed."""
    for run, times in (floor, product) if round_number % 2 == 0 else (product, floor):
        seconds = run()
        if timed:
            times.append(seconds)
