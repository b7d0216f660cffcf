"""Hand-built histories for the analytics tests: frames shaped as ``analytics.load`` makes
them, with answers known by construction."""

from __future__ import annotations

import pandas as pd

from analytics.quadrants import CAUSE_TYPE, QUADRANT_TYPE

ZONE = "Asia/Shanghai"


def at(text: str) -> pd.Timestamp:
    """A local time in the business's zone ('2026-01-05 10:00')."""
    return pd.Timestamp(text, tz=ZONE)


def events(rows: list[tuple]) -> pd.DataFrame:
    """Quadrant events from (customer, from, to, cause, local time[, experience id]) rows,
    in the order given."""
    records = [row if len(row) == 6 else (*row, None) for row in rows]
    customer, source, target, cause, when, experience = zip(*records, strict=True)
    return pd.DataFrame(
        {
            "customer": list(customer),
            "from_quadrant": pd.Categorical(list(source), dtype=QUADRANT_TYPE),
            "to_quadrant": pd.Categorical(list(target), dtype=QUADRANT_TYPE),
            "cause": pd.Categorical(list(cause), dtype=CAUSE_TYPE),
            "experience_id": pd.Series(list(experience), dtype="Int64"),
            "at": pd.Series([at(w) for w in when]).astype(f"datetime64[us, {ZONE}]"),
        }
    )


def experiences(rows: list[tuple]) -> pd.DataFrame:
    """Experiences from (id, customer, category, status, held_on, actual_cost) rows."""
    ids, customer, category, status, held, cost = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "experience_id": pd.Series(ids, dtype="int64"),
            "customer": list(customer),
            "category": pd.Categorical(list(category)),
            "status": pd.Categorical(list(status)),
            "held_on": pd.to_datetime(pd.Series(held, dtype=object)).astype("datetime64[s]"),
            "planned_cost": pd.Series(cost, dtype="float64"),
            "actual_cost": pd.Series(cost, dtype="float64"),
        }
    )
