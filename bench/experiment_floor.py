"""The floor of ``bench.experiments``' report: DuckDB computing the report's per-arm
aggregates (every metric's count, sum and sum of squares; the cost of the experiences in the
window; the covariates per arm) with group-bys over the same rows held in memory as pandas
frames, read out of the database before the clock starts; and the check that both agree."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import sqlalchemy as sa

from crm.extensions import db

LEVEL_SQL = "CASE {0} WHEN 'develop' THEN 0 WHEN 'pamper' THEN 2 ELSE 1 END"
FLOOR_SQL = {
    "outcomes": f"""
WITH last_q AS (
    SELECT customer_id, arg_max(to_quadrant, "at") AS q FROM q WHERE "at" < $end_instant
    GROUP BY customer_id
), bought AS (
    SELECT customer_id, count(*) AS n, sum(premium) AS premium FROM p
    WHERE start_date >= $start AND start_date < $end GROUP BY customer_id
), per AS (
    SELECT a.arm,
        CASE WHEN {LEVEL_SQL.format("coalesce(lq.q, a.quadrant)")}
            > {LEVEL_SQL.format("a.quadrant")} THEN 1 ELSE 0 END AS upward,
        c.willingness - a.willingness AS willingness_change,
        CASE WHEN b.n > 0 THEN 1 ELSE 0 END AS bought,
        coalesce(b.premium, 0) AS premium,
        CASE WHEN c.relationship_status = 'lost' AND c.lost_on >= $start AND c.lost_on < $end
            THEN 1 ELSE 0 END AS lost
    FROM a JOIN c ON c.id = a.customer_id
    LEFT JOIN last_q lq ON lq.customer_id = a.customer_id
    LEFT JOIN bought b ON b.customer_id = a.customer_id
)
SELECT arm, count(*) AS customers,
    sum(upward) AS upward, sum(upward * upward) AS upward2,
    sum(willingness_change) AS willingness, sum(willingness_change ^ 2) AS willingness2,
    sum(bought) AS bought, sum(bought * bought) AS bought2,
    sum(premium) AS premium, sum(premium ^ 2) AS premium2,
    sum(lost) AS lost, sum(lost * lost) AS lost2
FROM per GROUP BY arm ORDER BY arm
""",
    "cost": """
SELECT a.arm, sum(coalesce(e.actual_cost, e.planned_cost)) AS cost
FROM a JOIN e ON e.customer_id = a.customer_id
WHERE e.status IN ('done', 'no_show')
    AND coalesce(e.held_on, e.due_on) >= $start AND coalesce(e.held_on, e.due_on) < $end
GROUP BY a.arm ORDER BY a.arm
""",
    "quadrants": "SELECT arm, quadrant, count(*) AS n FROM a GROUP BY ALL ORDER BY ALL",
    "covariates": """
SELECT arm,
    count(liquid_assets), sum(liquid_assets), sum(liquid_assets ^ 2),
    count(willingness), sum(willingness), sum(willingness ^ 2),
    count(age), sum(age), sum(age ^ 2)
FROM a GROUP BY arm ORDER BY arm
""",
}


def read_frames(experiment_id: int) -> dict:
    """The rows the report reads, as pandas frames (untimed): dates and times as datetimes."""
    import pandas as pd

    def frame(sql: str, dates=(), times=()) -> pd.DataFrame:
        with db.engine.connect() as conn:
            result = pd.read_sql(sa.text(sql), conn, params={"i": experiment_id})
        for name in dates:
            result[name] = pd.to_datetime(result[name])
        for name in times:
            result[name] = pd.to_datetime(result[name], utc=True)
        return result

    return {
        "a": frame(
            "SELECT customer_id, arm, quadrant, willingness, liquid_assets, age "
            "FROM experiment_assignment WHERE experiment_id = :i"
        ),
        "c": frame(
            "SELECT id, willingness, relationship_status, lost_on FROM customer",
            dates=["lost_on"],
        ),
        "e": frame(
            "SELECT customer_id, status, held_on, due_on, actual_cost, planned_cost "
            "FROM experience",
            dates=["held_on", "due_on"],
        ),
        "p": frame("SELECT customer_id, start_date, premium FROM policy", dates=["start_date"]),
        "q": frame('SELECT customer_id, "at", to_quadrant FROM quadrant_event', times=["at"]),
    }


def time_floor(frames: dict, start, end) -> tuple[float, dict]:
    import duckdb

    from crm.core.clock import business_zone

    connection = duckdb.connect()
    for name, frame in frames.items():
        connection.register(name, frame)
    end_instant = datetime.combine(end, datetime.min.time(), business_zone()).astimezone(UTC)
    params = {"start": start, "end": end, "end_instant": end_instant}
    started = time.perf_counter()
    answers = {}
    for name, sql in FLOOR_SQL.items():
        wanted = {k: v for k, v in params.items() if f"${k}" in sql}
        answers[name] = connection.execute(sql, wanted).fetchall()
    seconds = time.perf_counter() - started
    connection.close()
    return seconds, answers


def check_same(report, answers: dict, scale: int) -> None:
    """The report's counts and sums equal DuckDB's, or the run stops saying where."""
    from crm.models.experiment import Arm

    rows = {row[0]: row for row in answers["outcomes"]}
    cost = {row[0]: row[1] for row in answers["cost"]}
    figures = report.primary
    for arm, shown in ((Arm.TREATMENT, figures.treatment), (Arm.HOLDOUT, figures.holdout)):
        row = rows[arm.value]
        if shown.customers != row[1] or abs((shown.mean or 0) * row[1] - row[2]) > 1e-6:
            raise RuntimeError(f"{arm}: report {shown} against DuckDB {row}")
        floor_cost = float(cost.get(arm.value) or 0) / scale
        # DuckDB sums the costs as floating point: over eight million experiences worth
        # ¥1.78 billion its sum drifted by 1.2 fen. A part in 10¹¹ of the total allows for
        # that and stays below the cheapest experience's ¥0.10, so a missing one still shows.
        if abs(float(shown.cost) - floor_cost) > max(0.01, abs(floor_cost) * 1e-11):
            raise RuntimeError(f"{arm}: cost {shown.cost} against DuckDB {cost.get(arm.value)}")
