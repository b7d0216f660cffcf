"""Budget use per quadrant (成本控制): what customers' experiences cost against their limits.

``budget_use`` reads the per-customer figures the app itself counts (``load.budget_usage``:
committed plus spent over the rolling 12 months, against the quadrant's limit); ``spend``
adds up what was actually spent in a period, per quadrant the customer was in at the time.
"""

from __future__ import annotations

import pandas as pd

from analytics.quadrants import QUADRANTS, quadrant_at

NEAR = 0.9  # a customer at 90% of their limit has little room left for the next plan


def budget_use(usage: pd.DataFrame) -> pd.DataFrame:
    """Per quadrant: customers, the limit per customer, the quadrant's total budget, used,
    the share used, the median customer's share, and how many are near (≥ 90%) or at or
    over their limit."""
    frame = usage.copy()
    frame["share"] = frame["used"] / frame["limit"].where(frame["limit"] > 0)
    grouped = frame.groupby("quadrant", observed=False)
    table = pd.DataFrame(
        {
            "customers": grouped.size(),
            "limit": grouped["limit"].max(),
            "budget": grouped["limit"].sum(),
            "used": grouped["used"].sum(),
            "median_share": grouped["share"].median(),
            "near_limit": grouped["share"].agg(lambda s: int(((s >= NEAR) & (s < 1)).sum())),
            "at_limit": grouped["share"].agg(lambda s: int((s >= 1).sum())),
        }
    ).reindex(list(QUADRANTS))
    table["share_used"] = table["used"] / table["budget"].where(table["budget"] > 0)
    table.index.name = "quadrant"
    columns = [
        "customers",
        "limit",
        "budget",
        "used",
        "share_used",
        "median_share",
        "near_limit",
        "at_limit",
    ]
    return table[columns].fillna({"customers": 0, "near_limit": 0, "at_limit": 0})


def spend(experiences: pd.DataFrame, events: pd.DataFrame, start=None, end=None) -> pd.DataFrame:
    """Actual cost of experiences held (or missed at a cost) from ``start`` to ``end``
    (days, inclusive), per quadrant the customer was in that day (rows) and category."""
    keep = experiences["held_on"].notna() & experiences["actual_cost"].notna()
    if start is not None:
        keep &= experiences["held_on"] >= pd.Timestamp(start)
    if end is not None:
        keep &= experiences["held_on"] <= pd.Timestamp(end)
    rows = experiences.loc[keep].copy()
    rows["held_at"] = rows["held_on"].dt.tz_localize(events["at"].dtype.tz)
    rows["quadrant"] = quadrant_at(rows, events, "held_at")
    table = rows.pivot_table(
        index="quadrant",
        columns="category",
        values="actual_cost",
        aggfunc="sum",
        observed=False,
        fill_value=0.0,
    )
    table = table.reindex(index=list(QUADRANTS), fill_value=0.0)
    table["total"] = table.sum(axis=1)
    return table
