"""Smoke runs of the benchmarks (bench/retier.py, bench/planner.py) at a few thousand customers.

Not timed tests: they check that each benchmark runs on both backends, writes its report
(to a temporary file, never docs/) and counts what it measured right. The figures at bank
scale come from ``make bench``.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from bench import planner, retier
from crm import create_app
from crm.extensions import db
from crm.services.planning.planner import plan_contacts

CUSTOMERS = 3_000
ROW = re.compile(r"^\| (sqlite|postgresql) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| .*\| (\d+) \|$")
# backend | rows planned | floor median s | planner median s | ratio | target | verdict
PLAN_ROW = re.compile(
    r"^\| (sqlite|postgresql) \| (\d+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| 2\.0 "
    r"\| (meets|misses) \|$"
)


def moves_counted_directly(url: str) -> int:
    """Customers whose quadrant differs between ¥1,000,000 / 60 and ¥500,000 / 50, from
    their raw columns (a quadrant is the pair of "high" flags, so it moves when one flips)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT liquid_assets, willingness FROM customer").all()
    finally:
        engine.dispose()
    to_yuan = 100 if url.startswith("sqlite") else 1  # SQLite keeps money as integer fen
    moved = 0
    for assets, willingness in rows:
        yuan = Decimal(assets) / to_yuan
        capability_flips = (yuan >= 500_000) != (yuan >= 1_000_000)
        willingness_flips = (willingness >= 50) != (willingness >= 60)
        moved += capability_flips or willingness_flips
    return moved


def test_benchmark_reports_a_ratio_per_backend_and_the_true_move_count(bench_urls, tmp_path):
    out = tmp_path / "performance.md"
    out.write_text("# Performance\n\n## Another benchmark\n\nKept.\n", encoding="utf-8")

    results = retier.run_benchmark(
        bench_urls, CUSTOMERS, repeat=1, out=out, command="smoke", warmup=0, log=lambda _: None
    )

    report = out.read_text(encoding="utf-8")
    assert "## Another benchmark\n\nKept." in report
    assert report.count(retier.HEADING) == 1
    rows = {m[1]: m for line in report.splitlines() if (m := ROW.match(line))}
    assert set(rows) == {"sqlite", "postgresql"}
    for backend, url in bench_urls.items():
        floor, product, ratio, moved = (float(rows[backend][i]) for i in (2, 3, 4, 5))
        assert floor > 0 and product > 0 and ratio > 0
        assert int(moved) == moves_counted_directly(url) > CUSTOMERS // 10
    assert [r.backend for r in results] == ["sqlite", "postgresql"]


def test_rerun_replaces_its_own_section(tmp_path):
    out = tmp_path / "performance.md"
    first = retier.BackendResult("sqlite", "3", 10, floor=[1.0], retier=[1.2], moved=3)
    retier.write_section(out, retier.HEADING, retier.render_section([first], "first"))
    out.write_text(out.read_text(encoding="utf-8") + "\n## Later section\n\nStays.\n")
    second = retier.BackendResult("sqlite", "3", 10, floor=[1.0], retier=[1.5], moved=3)
    retier.write_section(out, retier.HEADING, retier.render_section([second], "second"))

    report = out.read_text(encoding="utf-8")
    assert report.startswith("# Performance")
    assert report.count(retier.HEADING) == 1
    assert "| 1.50 | 1.3 | misses |" in report and "Rerun: `second`" in report
    assert "Rerun: `first`" not in report and "## Later section\n\nStays." in report


def planned_by_a_plain_run(url: str) -> tuple[int, int]:
    """Plan the benchmark's four weeks in its (emptied) database the way ``flask crm plan``
    does, then count from the table directly: (experiences, routine ones for customers who
    cannot be sent SMS)."""
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        plan_contacts(planner.TODAY + planner.HORIZON, today=planner.TODAY)
        db.session.remove()
        db.engine.dispose()
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            total = conn.exec_driver_sql("SELECT count(*) FROM experience").scalar_one()
            unreachable = conn.exec_driver_sql(
                "SELECT count(*) FROM experience JOIN customer ON customer.id = customer_id "
                "WHERE category = 'routine' "
                "AND (NOT customer.sms_consent OR customer.sms_opt_out_at IS NOT NULL)"
            ).scalar_one()
    finally:
        engine.dispose()
    return total, unreachable


def test_planner_benchmark_reports_a_ratio_per_backend_and_the_rows_a_plain_run_plans(
    bench_urls, tmp_path
):
    out = tmp_path / "performance.md"
    out.write_text(f"# Performance\n\n{retier.HEADING}\n\nKept.\n", encoding="utf-8")

    results = planner.run_benchmark(
        bench_urls, CUSTOMERS, repeat=1, out=out, command="smoke", warmup=0, log=lambda _: None
    )

    report = out.read_text(encoding="utf-8")
    assert f"{retier.HEADING}\n\nKept." in report
    assert report.count(planner.HEADING) == 1
    rows = {m[1]: m for line in report.splitlines() if (m := PLAN_ROW.match(line))}
    assert set(rows) == {"sqlite", "postgresql"}
    reported = {}
    for backend, url in bench_urls.items():
        planned, floor, product, ratio = (float(rows[backend][i]) for i in (2, 3, 4, 5))
        assert floor > 0 and product > 0
        assert ratio == pytest.approx(product / floor, rel=0.02, abs=0.01)
        # The benchmark leaves the plan empty; a plain run plans as many rows as it reported
        # (several per customer in four weeks), and SMS only to customers who may get them.
        total, unreachable = planned_by_a_plain_run(url)
        assert int(planned) == total > CUSTOMERS
        assert unreachable == 0
        reported[backend] = int(planned)
    # Same customers, same matrix, same day: the same plan on both backends.
    assert reported["sqlite"] == reported["postgresql"]
    assert [r.backend for r in results] == ["sqlite", "postgresql"]
    # The bank has birthdays and the window a festival: occasions are really planned.
    for result in results:
        occasions = result.by_occasion
        assert occasions.get("mid_autumn/routine", 0) > 0
        assert occasions.get("birthday/routine", 0) > 0
        assert occasions.get("birthday/lifestyle", 0) + occasions.get("birthday/visit", 0) > 0
    assert results[0].by_occasion == results[1].by_occasion
