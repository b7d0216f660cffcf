"""Call-back quotas, seed 003's targets and the complaint SLA on hand-built records."""

from __future__ import annotations

from datetime import date

import pandas as pd

from analytics.followup import (
    against_targets,
    callback_days,
    callback_quota,
    complaint_sla,
    outcomes,
)
from tests.analytics.history import at

MARCH = (date(2026, 3, 1), date(2026, 3, 31))
TARGETS = {
    "policy_conversion": 20.0,
    "deposit_conversion": 30.0,
    "universal_retention": 60.0,
    "satisfaction": 80.0,
}


def days(values) -> pd.Series:
    return pd.to_datetime(pd.Series(values, dtype=object)).astype("datetime64[s]")


def callbacks(rows) -> pd.DataFrame:
    """(owner, product type, maturity, created on, intent, recorded on) rows."""
    owner, kind, maturity, created, intent, recorded = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "owner": list(owner),
            "branch": ["城东支行"] * len(rows),
            "product_type": pd.Categorical(list(kind)),
            "maturity_date": days(maturity),
            "created_on": days(created),
            "intent": pd.Categorical(list(intent)),
            "recorded_on": days(recorded),
        }
    )


def complaints(rows) -> pd.DataFrame:
    """(owner, opened, due, answered, satisfied, non-routine surrender) rows, local times."""
    owner, opened, due, answered, satisfied, surrender = zip(*rows, strict=True)

    def times(values):
        return pd.Series([at(v) if v else pd.NaT for v in values]).astype(
            "datetime64[us, Asia/Shanghai]"
        )

    return pd.DataFrame(
        {
            "owner": list(owner),
            "branch": ["城东支行"] * len(rows),
            "opened_at": times(opened),
            "due_at": times(due),
            "answered_at": times(answered),
            "satisfied": pd.Series(satisfied, dtype="boolean"),
            "non_routine_surrender": pd.Series(surrender, dtype="boolean"),
        }
    )


CALLBACKS = callbacks(
    [
        ("李", "participating", "2026-03-10", "2026-02-01", "new_policy", "2026-03-01"),
        ("李", "participating", "2026-03-12", "2026-02-01", "deposit", "2026-03-02"),
        ("王", "participating", "2026-03-20", "2026-02-01", "surrender", "2026-03-02"),
        ("王", "participating", "2026-03-25", "2026-02-01", None, None),
        ("王", "universal", "2026-03-15", "2026-02-01", "renew", "2026-03-03"),
        ("王", "universal", "2026-03-16", "2026-02-01", "unreachable", "2026-03-03"),
        ("李", "universal", "2026-03-18", "2026-02-01", "surrender", "2026-03-04"),
        ("李", "universal", "2026-04-10", "2026-03-01", "new_policy", "2026-03-05"),
        ("李", "annuity", "2026-03-05", "2026-02-01", "undecided", "2026-03-01"),
    ]
)
COMPLAINTS = complaints(
    [
        ("李", "2026-03-01 10:00", "2026-03-08 10:00", "2026-03-08 10:00", True, False),
        ("李", "2026-03-05 10:00", "2026-03-12 10:00", "2026-03-20 10:00", True, True),
        ("王", "2026-03-06 10:00", "2026-03-13 10:00", "2026-03-09 10:00", False, False),
        ("王", "2026-03-10 10:00", "2026-03-17 10:00", None, None, None),
        ("王", "2026-03-28 10:00", "2026-04-04 10:00", "2026-04-01 00:30", True, False),
        ("李", "2026-03-29 10:00", "2026-04-05 10:00", "2026-03-31 23:00", True, False),
        ("李", "2026-02-10 10:00", "2026-02-17 10:00", "2026-02-12 10:00", True, False),
    ]
)


def test_outcomes_count_as_seed_003_does():
    row = outcomes(CALLBACKS, COMPLAINTS, *MARCH).loc["all"]
    assert row["maturities"] == 8  # the April maturity is outside
    assert row["called"] == 7
    assert row["participating"] == 4
    assert (row["converted_to_policy"], row["converted_to_deposit"]) == (1, 1)
    assert (row["policy_conversion"], row["deposit_conversion"]) == (25.0, 25.0)
    # Reached: renew and surrender (unreachable is not reached); kept: renew.
    assert (row["universal_reached"], row["universal_retained"]) == (2, 1)
    assert row["universal_retention"] == 50.0
    # Answered in March: on the 8th, 20th, 9th and 31st (23:00 local); one satisfied
    # customer surrendered, which never counts as satisfied.
    assert (row["complaints_answered"], row["complaints_satisfied"]) == (4, 2)
    assert row["satisfaction"] == 50.0


def test_outcomes_against_targets():
    table = against_targets(outcomes(CALLBACKS, COMPLAINTS, *MARCH).loc["all"], TARGETS)
    assert table["met"].to_dict() == {
        "policy_conversion": True,
        "deposit_conversion": False,
        "universal_retention": False,
        "satisfaction": False,
    }
    assert table.loc["policy_conversion", "counted"] == 4
    nothing = outcomes(CALLBACKS, COMPLAINTS, date(2030, 1, 1), date(2030, 1, 31))
    assert nothing.empty


def test_outcomes_per_owner_add_up_to_the_whole():
    per_owner = outcomes(CALLBACKS, COMPLAINTS, *MARCH, by="owner")
    assert set(per_owner.index) == {"李", "王"}
    whole = outcomes(CALLBACKS, COMPLAINTS, *MARCH).loc["all"]
    for column in ("maturities", "called", "participating", "complaints_answered"):
        assert per_owner[column].sum() == whole[column]


def test_the_quota_asks_for_what_was_open_up_to_the_quota():
    tasks = callbacks(
        [
            ("李", "participating", "2026-04-01", "2026-03-01", "renew", "2026-03-01"),
            ("李", "participating", "2026-04-02", "2026-03-01", "renew", "2026-03-01"),
            ("李", "participating", "2026-04-03", "2026-03-01", "renew", "2026-03-03"),
        ]
    )
    daily = callback_days(tasks, date(2026, 3, 1), date(2026, 3, 4), quota=2).set_index("day")
    assert daily["open"].tolist() == [3, 1, 1, 0]
    assert daily["owed"].tolist() == [2, 1, 1, 0]
    assert daily["recorded"].tolist() == [2, 0, 1, 0]
    assert daily["met"].tolist() == [True, False, True, True]
    table = callback_quota(tasks, date(2026, 3, 1), date(2026, 3, 4), quota=2).loc["李"]
    assert (table["days_owed"], table["days_met"], table["recorded"]) == (3, 2, 3)
    assert round(table["share_met"], 3) == round(2 / 3, 3)


def test_complaint_sla_on_time_at_the_due_instant_late_after_it():
    now = at("2026-03-31 12:00")
    row = complaint_sla(COMPLAINTS, *MARCH, sla_days=7, now=now).loc["all"]
    assert row["opened"] == 6  # the February one is outside
    assert (row["answered"], row["on_time"], row["late"]) == (5, 4, 1)
    assert (row["open"], row["overdue"]) == (1, 1)  # due on the 17th, still open
    assert row["share_on_time"] == 0.8
    per_owner = complaint_sla(COMPLAINTS, *MARCH, sla_days=7, now=now, by="owner")
    assert per_owner["opened"].to_dict() == {"李": 3, "王": 3}
