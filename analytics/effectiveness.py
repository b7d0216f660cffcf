"""Which experiences moved whom (体验效果), and what an upward move cost.

An experience counts here when it was held (status done) in the period. It is *followed by
an upward move* when its customer moved up the grid (``quadrants.LEVEL``) on the day it was
held or within the ``within_days`` after. That is an association, not proof: the move may
owe as much to an earlier visit or to a rise in assets. The stricter figure, ``direct_up``,
counts only the upward moves recorded with the experience itself as their cause (the
dossier revision made when it was recorded).

Cost per upward move is what the experiences of a group cost (their actual cost) over how
many of them were followed by an upward move: what a category spends for each customer it
is seen to lift.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.quadrants import UP, moves, quadrant_at

HELD = "done"


def held_experiences(experiences: pd.DataFrame, start=None, end=None) -> pd.DataFrame:
    """Experiences held (done) from ``start`` to ``end`` (days, inclusive; either open)."""
    keep = (experiences["status"].astype(object) == HELD) & experiences["held_on"].notna()
    if start is not None:
        keep &= experiences["held_on"] >= pd.Timestamp(start)
    if end is not None:
        keep &= experiences["held_on"] <= pd.Timestamp(end)
    return experiences.loc[keep]


def _day_start(days: pd.Series, tz) -> pd.Series:
    return days.dt.tz_localize(tz)


def followed_by_upward_move(
    experiences: pd.DataFrame, events: pd.DataFrame, *, within_days: int = 30, start=None, end=None
) -> pd.DataFrame:
    """The held experiences, one row each, with ``quadrant`` (the customer's when it was
    held), ``followed_up`` (an upward move within ``within_days``), ``days_to_up`` and
    ``direct_up`` (the experience is the recorded cause of an upward move)."""
    held = held_experiences(experiences, start, end).copy()
    tz = events["at"].dtype.tz
    held["held_at"] = _day_start(held["held_on"], tz)
    held["quadrant"] = quadrant_at(held, events, "held_at")
    upward = moves(events)
    upward = upward.loc[upward["direction"].astype(object) == UP]
    if held.empty:
        held["followed_up"] = pd.Series(dtype=bool)
        held["days_to_up"] = pd.Series(dtype=float)
        held["direct_up"] = pd.Series(dtype=bool)
        return held.drop(columns="held_at")
    unit = f"datetime64[{events['at'].dtype.unit}, UTC]"
    left = pd.DataFrame(
        {
            "customer": held["customer"],
            "t": held["held_at"].dt.tz_convert("UTC").astype(unit),
            "row": held.index,
        }
    )
    up_at = upward["at"].dt.tz_convert("UTC").astype(unit)
    right = pd.DataFrame({"customer": upward["customer"], "t": up_at, "up_at": up_at})
    joined = pd.merge_asof(
        left.sort_values("t", kind="stable"),
        right.sort_values("t", kind="stable"),
        on="t",
        by="customer",
        direction="forward",
        allow_exact_matches=True,
    ).set_index("row")
    next_up = pd.to_datetime(joined["up_at"].reindex(held.index), utc=True)
    day_start = held["held_at"].dt.tz_convert("UTC")
    days = (next_up - day_start) / pd.Timedelta(days=1)
    held["days_to_up"] = np.floor(days)
    held["followed_up"] = (days < within_days + 1).fillna(False).astype(bool)
    direct = set(upward["experience_id"].dropna().astype("int64"))
    held["direct_up"] = held["experience_id"].isin(direct)
    return held.drop(columns="held_at")


def effectiveness(
    experiences: pd.DataFrame,
    events: pd.DataFrame,
    *,
    within_days: int = 30,
    start=None,
    end=None,
    by: str | list[str] = "category",
) -> pd.DataFrame:
    """Per group (``by``: category, quadrant, or both): experiences held, their cost, how
    many were followed by an upward move and the share, cost per upward move, and the
    upward moves they directly caused."""
    rows = followed_by_upward_move(
        experiences, events, within_days=within_days, start=start, end=end
    )
    keys = [by] if isinstance(by, str) else list(by)
    rows["actual"] = rows["actual_cost"].fillna(0.0)
    table = rows.groupby(keys, observed=True).agg(
        experiences=("experience_id", "size"),
        cost=("actual", "sum"),
        followed_up=("followed_up", "sum"),
        direct_up=("direct_up", "sum"),
    )
    table["share_up"] = table["followed_up"] / table["experiences"]
    table["cost_per_up"] = table["cost"] / table["followed_up"].where(table["followed_up"] > 0)
    table["cost_per_direct_up"] = table["cost"] / table["direct_up"].where(table["direct_up"] > 0)
    columns = [
        "experiences",
        "cost",
        "followed_up",
        "share_up",
        "cost_per_up",
        "direct_up",
        "cost_per_direct_up",
    ]
    return table[columns]
