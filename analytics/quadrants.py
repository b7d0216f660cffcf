"""Quadrants over time (客户分层迁移): where each customer stood on a date, and who moved.

The functions take the quadrant-event frame of ``analytics.load.quadrant_events`` (one row
per event: ``customer``, ``from_quadrant`` (missing for a first placement), ``to_quadrant``,
``cause``, ``experience_id``, ``at``) or one built by hand with those columns. "As of" a
date means after everything that happened on that day, in the time zone of the ``at``
column (the business's zone, as loaded); an aware time means up to and including that
instant.

Upward (向上迁移). The grid has two axes, capability and willingness. A move is upward when
it raises one of them and lowers neither: develop → maintain, develop → cultivate,
develop → pamper, maintain → pamper, cultivate → pamper. The reverse moves are downward;
maintain ↔ cultivate trades one axis for the other and is lateral. ``LEVEL`` holds this
order, and nothing else in the package decides it.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from crm.models.enums import MoveCause, Quadrant

QUADRANTS: tuple[str, ...] = tuple(q.value for q in Quadrant)
QUADRANT_TYPE = pd.CategoricalDtype(QUADRANTS)
CAUSES: tuple[str, ...] = tuple(c.value for c in MoveCause)
CAUSE_TYPE = pd.CategoricalDtype(CAUSES)

# Capability plus willingness, each 0 (low) or 1 (high): a move is upward when it rises.
LEVEL = {
    Quadrant.DEVELOP.value: 0,
    Quadrant.MAINTAIN.value: 1,
    Quadrant.CULTIVATE.value: 1,
    Quadrant.PAMPER.value: 2,
}
UP, DOWN, LATERAL = "up", "down", "lateral"
DIRECTIONS = (UP, DOWN, LATERAL)
# The row of customers first placed within a period, in a matrix that shows them.
NEW = "new"

# Below this many events the matrix is computed in one thread (threads cost more than they save).
PARALLEL_FROM = 2_000_000


def direction(from_quadrant, to_quadrant) -> pd.Series:
    """ "up", "down" or "lateral" for each pair (missing where there is no from-quadrant or
    nothing moved)."""
    source = pd.Series(from_quadrant).astype(object)
    target = pd.Series(np.asarray(to_quadrant, dtype=object), index=source.index)
    low, high = source.map(LEVEL), target.map(LEVEL)
    result = pd.Series(None, index=source.index, dtype=object)
    result[high > low] = UP
    result[high < low] = DOWN
    result[(high == low) & (source != target)] = LATERAL
    return result


def is_upward(from_quadrant: str | None, to_quadrant: str) -> bool:
    """One move: does it go up the grid?"""
    if from_quadrant is None:
        return False
    return LEVEL[str(to_quadrant)] > LEVEL[str(from_quadrant)]


# --- time -----------------------------------------------------------------------------------


def cutoff(when, tz) -> pd.Timestamp:
    """The first instant *not* included "as of ``when``": the start of the next day in
    ``tz`` for a date (or a date string); for an aware time, just after it (an event at
    that very instant counts, as in ``crm.services.customers.tiering.quadrants_as_of``)."""
    if isinstance(when, str) and len(when.strip()) == 10:
        when = date.fromisoformat(when.strip())
    if isinstance(when, date) and not isinstance(when, datetime):
        return pd.Timestamp(when + timedelta(days=1)).tz_localize(tz)
    stamp = pd.Timestamp(when)
    if stamp.tzinfo is None:
        raise ValueError(f"{when!r} has no time zone; give a date or an aware time")
    return stamp + pd.Timedelta(nanoseconds=1)


def _tz(events: pd.DataFrame):
    tz = getattr(events["at"].dtype, "tz", None)
    if tz is None:
        raise ValueError("the events' 'at' column must hold aware times")
    return tz


def _bound(events: pd.DataFrame, when) -> np.datetime64:
    """``cutoff(when)`` as a UTC datetime64 in the unit of the ``at`` column (rounded up, so
    ``at < bound`` keeps exactly what the cutoff keeps)."""
    unit = events["at"].dtype.unit
    stamp = cutoff(when, _tz(events)).tz_convert("UTC").tz_localize(None)
    if unit != "ns":
        stamp = stamp.ceil(unit)
    return np.datetime64(stamp.to_datetime64(), unit)


# --- where customers stood ------------------------------------------------------------------


def quadrant_as_of(events: pd.DataFrame, when) -> pd.Series:
    """Each customer's quadrant as of ``when``: the last event before then (ties in time:
    the later row). Customers not yet placed are absent."""
    before = events.loc[events["at"] < cutoff(when, _tz(events))]
    before = before.sort_values(["customer", "at"], kind="stable")
    last = before.groupby("customer", sort=True, observed=True).tail(1)
    return pd.Series(
        pd.Categorical(last["to_quadrant"].astype(object), dtype=QUADRANT_TYPE),
        index=pd.Index(last["customer"].to_numpy(), name="customer"),
        name="quadrant",
    )


def transition_matrix(events: pd.DataFrame, start, end, *, new: bool = False) -> pd.DataFrame:
    """How many customers stood in each quadrant as of ``start`` (rows) and as of ``end``
    (columns). A customer who moved develop → maintain → pamper in between counts once, in
    (develop, pamper). With ``new``, a last row counts customers first placed in between.

    Fast at bank scale: the events sorted by customer and time (as ``load.quadrant_events``
    returns them) are read in one pass per range of customers, ranges in parallel threads;
    other frames are sorted first.
    """
    customers, times, codes = _arrays(events)
    first, last = _bound(events, start), _bound(events, end)
    if last < first:
        raise ValueError("the period ends before it starts")
    counts = _count(customers, times, codes, first, last)
    if counts is None:  # not in customer-and-time order: sort, then count
        order = np.lexsort((times, customers))
        counts = _count(customers[order], times[order], codes[order], first, last)
    pairs, arrivals = counts
    matrix = pd.DataFrame(
        pairs.reshape(len(QUADRANTS), len(QUADRANTS)),
        index=pd.Index(QUADRANTS, name="from"),
        columns=pd.Index(QUADRANTS, name="to"),
    )
    if new:
        matrix.loc[NEW] = arrivals
    return matrix


def row_shares(matrix: pd.DataFrame) -> pd.DataFrame:
    """Each row of a transition matrix as shares of its total (0 where a row is empty)."""
    totals = matrix.sum(axis=1)
    return matrix.div(totals.where(totals > 0), axis=0).fillna(0.0)


def _arrays(events: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Customers as integers (in frame order), times as datetime64 (UTC), quadrant codes."""
    customer = events["customer"]
    if pd.api.types.is_integer_dtype(customer.dtype):
        customers = customer.to_numpy()
    else:
        # Codes in order of first appearance: a frame grouped by customer stays in order.
        customers = pd.factorize(customer, sort=False)[0]
    times = events["at"].to_numpy(dtype=f"datetime64[{events['at'].dtype.unit}]")
    quadrant = events["to_quadrant"]
    if (
        isinstance(quadrant.dtype, pd.CategoricalDtype)
        and tuple(quadrant.cat.categories) == QUADRANTS
    ):
        codes = quadrant.cat.codes.to_numpy()
    else:
        codes = pd.Categorical(quadrant.astype(object), dtype=QUADRANT_TYPE).codes
    if len(codes) and codes.min() < 0:
        raise ValueError("an event's to_quadrant is missing or not a quadrant")
    return customers, times, codes


def _count(customers, times, codes, first, last) -> tuple[np.ndarray, np.ndarray] | None:
    """(4×4 pair counts, arrivals per quadrant), or None if the arrays are not sorted by
    customer and then time."""
    n = len(customers)
    if n == 0:
        return np.zeros(16, dtype=np.int64), np.zeros(4, dtype=np.int64)
    parts = min(os.cpu_count() or 1, 4) if n >= PARALLEL_FROM else 1
    cuts = sorted(
        {
            0,
            n,
            *(int(np.searchsorted(customers, customers[n * k // parts])) for k in range(1, parts)),
        }
    )
    # Ranges must not share a customer: then sorted ranges make a sorted whole.
    if any(customers[c - 1] >= customers[c] for c in cuts[1:-1]):
        return None
    ranges = list(zip(cuts[:-1], cuts[1:], strict=True))

    def one(bounds: tuple[int, int]):
        lo, hi = bounds
        return _count_range(customers[lo:hi], times[lo:hi], codes[lo:hi], first, last)

    if len(ranges) == 1:
        results = [one(ranges[0])]
    else:
        with ThreadPoolExecutor(len(ranges)) as pool:  # numpy lets go of the GIL
            results = list(pool.map(one, ranges))
    if any(r is None for r in results):
        return None
    return sum(r[0] for r in results), sum(r[1] for r in results)


def _count_range(c, a, q, first, last):
    """One range of customers: the last event before ``first`` and before ``last`` per
    customer, paired. Within a customer's events (sorted by time) those before a bound are
    a prefix, so its last one is where the next event is another customer's or later."""
    same = c[1:] == c[:-1]
    in_order = (c[1:] >= c[:-1]) & (~same | (a[1:] >= a[:-1]))
    if not in_order.all():
        return None
    starts = np.flatnonzero(~same) + 1
    starts = np.concatenate((np.zeros(1, dtype=starts.dtype), starts))
    before_first = a < first
    before_last = a < last
    ends_first = before_first.copy()
    ends_first[:-1] &= ~(same & before_first[1:])
    ends_last = before_last.copy()
    ends_last[:-1] &= ~(same & before_last[1:])
    placed_first = before_first[starts]
    placed_last = before_last[starts]
    # Customers placed by the end, in order; which of them were placed by the start too.
    were_placed = placed_first[placed_last]
    at_first = q[np.flatnonzero(ends_first)].astype(np.int64)
    at_last = q[np.flatnonzero(ends_last)]
    pairs = np.bincount(at_first * 4 + at_last[were_placed], minlength=16)
    arrivals = np.bincount(at_last[~were_placed], minlength=4)
    return pairs, arrivals


# --- moves ----------------------------------------------------------------------------------


def moves(events: pd.DataFrame, start=None, end=None) -> pd.DataFrame:
    """The moves between quadrants after ``start`` up to ``end`` (either open), first
    placements left out, each with its ``direction``."""
    tz = _tz(events)
    keep = events["from_quadrant"].notna() & (
        events["from_quadrant"].astype(object) != events["to_quadrant"].astype(object)
    )
    if start is not None:
        keep &= events["at"] >= cutoff(start, tz)
    if end is not None:
        keep &= events["at"] < cutoff(end, tz)
    moved = events.loc[keep].copy()
    moved["direction"] = pd.Categorical(
        direction(moved["from_quadrant"], moved["to_quadrant"]).to_numpy(),
        categories=DIRECTIONS,
    )
    return moved


def moves_per_cause(events: pd.DataFrame, start=None, end=None) -> pd.DataFrame:
    """Moves in the period per cause (rows, every cause) and direction (up, down, lateral),
    with a total column."""
    moved = moves(events, start, end)
    table = pd.crosstab(
        pd.Categorical(moved["cause"].astype(object), dtype=CAUSE_TYPE),
        moved["direction"],
        dropna=False,
    )
    table = table.reindex(index=list(CAUSES), columns=list(DIRECTIONS), fill_value=0)
    table.index.name, table.columns.name = "cause", "direction"
    table["total"] = table.sum(axis=1)
    return table.astype(int)


def moves_per(moved: pd.DataFrame, customers: pd.DataFrame, by: str) -> pd.DataFrame:
    """Moves (from ``moves``) per a customer attribute (``branch``, ``owner``, ``channel``…)
    and direction, with totals."""
    joined = moved.merge(customers[["customer", by]], on="customer", how="left")
    table = pd.crosstab(joined[by].astype(object).fillna("—"), joined["direction"], dropna=False)
    table = table.reindex(columns=list(DIRECTIONS), fill_value=0)
    table["total"] = table.sum(axis=1)
    table.columns.name = "direction"
    return table.sort_values("total", ascending=False).astype(int)


def quadrant_at(frame: pd.DataFrame, events: pd.DataFrame, on: str) -> pd.Series:
    """For each row of ``frame`` (a ``customer`` and an aware time in column ``on``), the
    customer's quadrant just before that time (missing if not yet placed)."""
    if frame.empty:
        return pd.Series(pd.Categorical([], dtype=QUADRANT_TYPE), index=frame.index)
    unit = f"datetime64[{events['at'].dtype.unit}, UTC]"
    left = pd.DataFrame(
        {
            "customer": frame["customer"],
            "t": pd.to_datetime(frame[on], utc=True).astype(unit),
            "row": frame.index,
        }
    )
    right = pd.DataFrame(
        {
            "customer": events["customer"],
            "t": events["at"].dt.tz_convert("UTC").astype(unit),
            "quadrant": events["to_quadrant"].astype(object),
        }
    )
    joined = pd.merge_asof(
        left.sort_values("t", kind="stable"),
        right.sort_values("t", kind="stable"),
        on="t",
        by="customer",
        direction="backward",
        allow_exact_matches=False,
    )
    result = joined.set_index("row")["quadrant"].reindex(frame.index)
    return pd.Series(pd.Categorical(result.to_numpy(), dtype=QUADRANT_TYPE), index=frame.index)


def assets_as_of(events: pd.DataFrame, when) -> pd.Series:
    """Liquid assets per quadrant as of ``when`` (every quadrant, 0 where empty): each placed
    customer's assets as their last event recorded them, under the quadrant it placed them in
    (the dashboard's "liquid assets per quadrant", ``crm.services.management.dashboard``)."""
    before = events.loc[events["at"] < cutoff(when, _tz(events))]
    last = before.sort_values(["customer", "at"], kind="stable").groupby("customer").tail(1)
    totals = last.groupby(
        pd.Categorical(last["to_quadrant"].astype(object), dtype=QUADRANT_TYPE), observed=False
    )["liquid_assets"].sum()
    return totals.reindex(list(QUADRANTS), fill_value=0.0).rename("liquid_assets")
