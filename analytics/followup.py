"""Maturity follow-up (满期回访, seed 003): call-back quotas, the seed's targets, complaint SLA.

The targets are counted as ``crm.services.followup.targets.outcomes`` counts them for the app's
follow-up page (the test suite checks that the two agree on one database):

- policy conversion: participating-policy maturities whose customer chose a new policy;
- deposit conversion: participating-policy maturities converted to a deposit;
- universal-life retention: universal-life holders reached who keep their policy (renew, a
  new policy, or undecided), over those reached;
- satisfaction: complaints answered in the period that ended satisfied, a non-routine
  surrender never counting as satisfied.

Maturities count by maturity date in the period, complaints by the day they were answered.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from crm.models.enums import CallbackIntent, ProductType

# Imported, not restated: which intents keep a universal-life policy, and which counts make
# each measure, are the app's rules.
from crm.services.followup.targets import MEASURES, RETAINED

RETAINED_INTENTS = tuple(i.value for i in RETAINED)


def _days_between(days: pd.Series, start, end) -> pd.Series:
    return (days >= pd.Timestamp(start)) & (days <= pd.Timestamp(end))


def _percent(part: pd.Series, whole: pd.Series) -> pd.Series:
    return (part * 100 / whole.where(whole > 0)).round(1)


def outcomes(
    callbacks: pd.DataFrame,
    complaints: pd.DataFrame,
    start: date,
    end: date,
    by: str | None = None,
) -> pd.DataFrame:
    """The seed 003 counts and percentages for maturities and complaint answers from
    ``start`` to ``end`` (inclusive), per ``by`` (owner, branch, channel) or overall."""
    key = by or "all"
    calls = callbacks.loc[_days_between(callbacks["maturity_date"], start, end)].copy()
    calls["all"] = "all"
    intent = calls["intent"].astype(object)
    participating = calls["product_type"].astype(object) == ProductType.PARTICIPATING.value
    universal = calls["product_type"].astype(object) == ProductType.UNIVERSAL.value
    reached = intent.notna() & (intent != CallbackIntent.UNREACHABLE.value)
    calls = calls.assign(
        maturities=1,
        called=calls["recorded_on"].notna(),
        participating=participating,
        converted_to_policy=participating & (intent == CallbackIntent.NEW_POLICY.value),
        converted_to_deposit=participating & (intent == CallbackIntent.DEPOSIT.value),
        universal_reached=universal & reached,
        universal_retained=universal & intent.isin(RETAINED_INTENTS),
    )
    counted = [
        "maturities",
        "called",
        "participating",
        "converted_to_policy",
        "converted_to_deposit",
        "universal_reached",
        "universal_retained",
    ]
    table = calls.groupby(key)[counted].sum()

    tz = complaints["answered_at"].dtype.tz
    first = pd.Timestamp(start).tz_localize(tz)
    after = pd.Timestamp(end + timedelta(days=1)).tz_localize(tz)
    answered = complaints.loc[
        (complaints["answered_at"] >= first) & (complaints["answered_at"] < after)
    ].copy()
    answered["all"] = "all"
    answered["complaints_answered"] = 1
    answered["complaints_satisfied"] = answered["satisfied"].fillna(False).astype(bool) & ~(
        answered["non_routine_surrender"].fillna(False).astype(bool)
    )
    table = table.join(
        answered.groupby(key)[["complaints_answered", "complaints_satisfied"]].sum(), how="outer"
    )
    table = table.fillna(0).astype(int)
    for m in MEASURES:
        table[m.key] = _percent(table[m.part], table[m.whole])
    table.index.name = key
    return table


def against_targets(row: pd.Series, targets: dict[str, float]) -> pd.DataFrame:
    """One row of ``outcomes`` beside the targets: measure, actual %, target %, met (None
    when nothing was counted)."""
    lines = []
    for m in MEASURES:
        actual = row[m.key]
        lines.append(
            {
                "measure": m.key,
                "counted": int(row[m.whole]),
                "actual": actual,
                "target": targets[m.key],
                "met": None if pd.isna(actual) else bool(actual >= targets[m.key]),
            }
        )
    return pd.DataFrame(lines).set_index("measure")


def callback_days(callbacks: pd.DataFrame, start: date, end: date, quota: int) -> pd.DataFrame:
    """Per staff member (the customers' owner) and day: call-backs open that morning, what
    the quota asked of them (the quota, or fewer when fewer were open), how many they
    recorded, and whether they met it."""
    days = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="D", unit="s")
    owners = sorted(callbacks["owner"].dropna().unique())
    if not owners or days.empty:
        return pd.DataFrame(
            {
                "owner": pd.Series(dtype=object),
                "day": pd.Series(dtype="datetime64[s]"),
                **{column: pd.Series(dtype="int64") for column in ("open", "owed", "recorded")},
                "met": pd.Series(dtype=bool),
            }
        )
    made = _per_day(callbacks, "created_on", owners, days, cumulative=True)
    closed = _per_day(callbacks, "recorded_on", owners, days, cumulative=True, before=True)
    done = _per_day(callbacks, "recorded_on", owners, days, cumulative=False)
    open_morning = made - closed
    frame = pd.DataFrame(
        {
            "open": open_morning.stack(),
            "recorded": done.stack(),
        }
    )
    frame["owed"] = np.minimum(frame["open"], quota)
    frame["met"] = frame["recorded"] >= frame["owed"]
    frame = frame.reset_index()
    frame.columns = ["day", "owner", "open", "recorded", "owed", "met"]
    return frame[["owner", "day", "open", "owed", "recorded", "met"]]


def _per_day(callbacks, column, owners, days, *, cumulative: bool, before: bool = False):
    """Counts per day (rows) and owner (columns) of ``column``; running totals up to each
    day (``before``: up to the day before), counting from the first record."""
    counts = callbacks.dropna(subset=[column]).groupby([column, "owner"]).size().unstack()
    counts = counts.reindex(columns=owners, fill_value=0).fillna(0)
    if cumulative:
        counts = counts.sort_index().cumsum()
        if before:
            counts.index = counts.index + pd.Timedelta(days=1)
        full = counts.reindex(counts.index.union(days)).ffill().fillna(0)
        return full.reindex(days).astype(int)
    return counts.reindex(days, fill_value=0).astype(int)


def callback_quota(callbacks: pd.DataFrame, start: date, end: date, quota: int) -> pd.DataFrame:
    """Per staff member over the period: days with call-backs owed, days the quota was met,
    the share, call-backs recorded, and recorded per day owed."""
    daily = callback_days(callbacks, start, end, quota)
    owed = daily.loc[daily["owed"] > 0]
    table = pd.DataFrame(
        {
            "days_owed": owed.groupby("owner").size(),
            "days_met": owed.groupby("owner")["met"].sum(),
            "recorded": daily.groupby("owner")["recorded"].sum(),
        }
    ).fillna(0)
    table = table.astype(int)
    table["share_met"] = table["days_met"] / table["days_owed"].where(table["days_owed"] > 0)
    table["per_day_owed"] = table["recorded"] / table["days_owed"].where(table["days_owed"] > 0)
    return table


def complaint_sla(
    complaints: pd.DataFrame, start: date, end: date, sla_days: int, now=None, by: str | None = None
) -> pd.DataFrame:
    """Complaints opened from ``start`` to ``end``: opened, answered, on time (by the due
    time; at the due instant itself is on time), late, still open, overdue now, the share
    answered on time and the median days to an answer; per ``by`` or overall."""
    tz = complaints["opened_at"].dtype.tz
    first = pd.Timestamp(start).tz_localize(tz)
    after = pd.Timestamp(end + timedelta(days=1)).tz_localize(tz)
    now = pd.Timestamp.now(tz=tz) if now is None else pd.Timestamp(now)
    rows = complaints.loc[
        (complaints["opened_at"] >= first) & (complaints["opened_at"] < after)
    ].copy()
    rows["all"] = "all"
    answered = rows["answered_at"].notna()
    rows["answered"] = answered
    rows["on_time"] = answered & (rows["answered_at"] <= rows["due_at"])
    rows["late"] = answered & (rows["answered_at"] > rows["due_at"])
    rows["open"] = ~answered
    rows["overdue"] = ~answered & (rows["due_at"] < now)
    rows["days_to_answer"] = (rows["answered_at"] - rows["opened_at"]) / pd.Timedelta(days=1)
    key = by or "all"
    grouped = rows.groupby(key)
    table = grouped[["answered", "on_time", "late", "open", "overdue"]].sum().astype(int)
    table.insert(0, "opened", grouped.size())
    table["share_on_time"] = table["on_time"] / table["answered"].where(table["answered"] > 0)
    table["median_days"] = grouped["days_to_answer"].median()
    table["sla_days"] = sla_days
    return table
