"""Quadrants over time on hand-built histories whose answers are known by construction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics import quadrants
from analytics.quadrants import (
    LEVEL,
    NEW,
    QUADRANTS,
    direction,
    is_upward,
    moves,
    moves_per,
    moves_per_cause,
    quadrant_as_of,
    row_shares,
    transition_matrix,
)
from tests.analytics.history import events

# a: develop → maintain → pamper; b: cultivate → pamper → cultivate; c: maintain, unmoved;
# d: placed mid-February; e: pamper → maintain → cultivate (down, then lateral).
HISTORY = events(
    [
        ("a", None, "develop", "import", "2026-01-01 09:00"),
        ("a", "develop", "maintain", "experience", "2026-02-10 23:59", 1),
        ("a", "maintain", "pamper", "dossier_edit", "2026-03-15 10:00"),
        ("b", None, "cultivate", "import", "2026-01-02 09:00"),
        ("b", "cultivate", "pamper", "experience", "2026-02-20 10:00", 9),
        ("b", "pamper", "cultivate", "complaint", "2026-04-01 10:00"),
        ("c", None, "maintain", "import", "2026-01-03 09:00"),
        ("d", None, "develop", "dossier_edit", "2026-02-15 11:00"),
        ("e", None, "pamper", "import", "2026-01-05 09:00"),
        ("e", "pamper", "maintain", "dossier_edit", "2026-03-01 10:00"),
        ("e", "maintain", "cultivate", "reassessment", "2026-03-20 10:00"),
    ]
)


def cells(matrix: pd.DataFrame) -> dict[tuple[str, str], int]:
    """The non-zero cells of a matrix."""
    return {(i, j): int(n) for (i, j), n in matrix.stack().items() if n}


def test_a_customer_who_climbed_twice_counts_once_in_each_step_and_once_overall():
    first = transition_matrix(HISTORY, "2026-01-31", "2026-02-28", new=True)
    second = transition_matrix(HISTORY, "2026-02-28", "2026-03-31", new=True)
    whole = transition_matrix(HISTORY, "2026-01-31", "2026-03-31", new=True)

    assert cells(first) == {
        ("develop", "maintain"): 1,  # a
        ("cultivate", "pamper"): 1,  # b
        ("maintain", "maintain"): 1,  # c
        ("pamper", "pamper"): 1,  # e
        (NEW, "develop"): 1,  # d, placed in between
    }
    assert cells(second) == {
        ("maintain", "pamper"): 1,  # a
        ("pamper", "pamper"): 1,  # b
        ("maintain", "maintain"): 1,  # c
        ("develop", "develop"): 1,  # d
        ("pamper", "cultivate"): 1,  # e, via maintain: once, where it started and ended
    }
    assert cells(whole) == {
        ("develop", "pamper"): 1,  # a: once, not once per move
        ("cultivate", "pamper"): 1,
        ("maintain", "maintain"): 1,
        ("pamper", "cultivate"): 1,
        (NEW, "develop"): 1,
    }
    assert list(whole.index) == [*QUADRANTS, NEW] and list(whole.columns) == list(QUADRANTS)
    # Without the new row, a matrix counts the customers placed by its start.
    assert transition_matrix(HISTORY, "2026-01-31", "2026-03-31").to_numpy().sum() == 4


def test_as_of_a_day_takes_everything_on_that_day_in_the_business_zone():
    on_the_day = quadrant_as_of(HISTORY, "2026-02-10")
    assert on_the_day["a"] == "maintain"  # moved at 23:59 local that day
    assert quadrant_as_of(HISTORY, "2026-02-09")["a"] == "develop"
    # The same history with times in UTC: 23:59 in Shanghai is 15:59 UTC, still the 10th.
    in_utc = HISTORY.assign(at=HISTORY["at"].dt.tz_convert("UTC"))
    assert quadrant_as_of(in_utc, "2026-02-10")["a"] == "maintain"
    # An aware time means up to and including that instant.
    moved_at = pd.Timestamp("2026-02-10 23:59", tz="Asia/Shanghai")
    assert quadrant_as_of(HISTORY, moved_at)["a"] == "maintain"
    assert quadrant_as_of(HISTORY, moved_at - pd.Timedelta(microseconds=1))["a"] == "develop"
    instant = cells(transition_matrix(HISTORY, moved_at - pd.Timedelta(seconds=1), moved_at))
    assert instant[("develop", "maintain")] == 1
    assert "d" not in quadrant_as_of(HISTORY, "2026-02-14").index


def test_as_of_agrees_with_the_matrix_rows_and_columns():
    start, end = "2026-02-28", "2026-04-30"
    matrix = transition_matrix(HISTORY, start, end)
    at_end = quadrant_as_of(HISTORY, end)
    at_start = quadrant_as_of(HISTORY, start)
    assert matrix.sum(axis=0).to_dict() == at_end.value_counts().reindex(QUADRANTS).to_dict()
    assert matrix.sum(axis=1).to_dict() == at_start.value_counts().reindex(QUADRANTS).to_dict()


def test_row_shares_divide_each_row_by_its_total_and_leave_empty_rows_at_zero():
    matrix = transition_matrix(HISTORY, "2026-01-31", "2026-03-31")
    shares = row_shares(matrix)
    assert shares.loc["maintain", "maintain"] == 1.0
    assert shares.loc["develop", "pamper"] == 1.0
    assert shares.loc["develop"].sum() == 1.0
    doubled = matrix.copy()
    doubled.loc["develop", "develop"] = 3
    assert row_shares(doubled).loc["develop"].tolist() == [0.75, 0.0, 0.0, 0.25]
    empty = matrix * 0
    assert (row_shares(empty) == 0).all().all()


def test_upward_raises_one_axis_and_lowers_none():
    assert LEVEL == {"develop": 0, "maintain": 1, "cultivate": 1, "pamper": 2}
    up = [("develop", "maintain"), ("develop", "cultivate"), ("develop", "pamper")]
    up += [("maintain", "pamper"), ("cultivate", "pamper")]
    for source, target in up:
        assert is_upward(source, target)
        assert not is_upward(target, source)
    assert not is_upward("maintain", "cultivate") and not is_upward("cultivate", "maintain")
    assert not is_upward(None, "pamper")
    got = direction(
        ["develop", "pamper", "maintain", None, "pamper"],
        ["pamper", "maintain", "cultivate", "develop", "pamper"],
    )
    assert got.tolist()[:3] == ["up", "down", "lateral"]
    assert got.isna().tolist() == [False, False, False, True, True]


def test_moves_per_cause_counts_each_move_in_the_period_by_direction():
    table = moves_per_cause(HISTORY, "2026-01-31", "2026-03-31")
    assert table.loc["experience"].tolist() == [2, 0, 0, 2]  # a, b: both up
    assert table.loc["dossier_edit"].tolist() == [1, 1, 0, 2]  # a up; e down
    assert table.loc["reassessment"].tolist() == [0, 0, 1, 1]  # e: maintain → cultivate
    assert table.loc["complaint", "total"] == 0  # b's complaint is in April
    assert table.loc["import", "total"] == 0  # first placements are not moves
    assert table["total"].sum() == 5
    assert list(table.columns) == ["up", "down", "lateral", "total"]
    assert moves_per_cause(HISTORY).loc["complaint"].tolist() == [0, 1, 0, 1]


def test_moves_per_customer_attribute():
    customers = pd.DataFrame(
        {"customer": ["a", "b", "c", "d", "e"], "branch": ["东", "东", "西", "西", "西"]}
    )
    table = moves_per(moves(HISTORY, "2026-01-31", "2026-03-31"), customers, "branch")
    assert table.loc["东"].tolist() == [3, 0, 0, 3]
    assert table.loc["西"].tolist() == [0, 1, 1, 2]


def test_ties_in_time_go_to_the_later_row_in_both_functions():
    tied = events(
        [
            ("x", None, "develop", "import", "2026-01-01 09:00"),
            ("x", "develop", "maintain", "dossier_edit", "2026-01-10 10:00"),
            ("x", "maintain", "pamper", "dossier_edit", "2026-01-10 10:00"),
        ]
    )
    assert quadrant_as_of(tied, "2026-01-10")["x"] == "pamper"
    assert cells(transition_matrix(tied, "2026-01-05", "2026-01-10")) == {("develop", "pamper"): 1}


def random_history(customers: int, seed: int = 5) -> pd.DataFrame:
    """A long random history with integer customer ids, in customer-and-time order."""
    rng = np.random.default_rng(seed)
    rows = []
    for customer in range(1, customers + 1):
        when = pd.Timestamp("2025-01-01", tz="Asia/Shanghai") + pd.Timedelta(
            hours=int(rng.integers(0, 24 * 200))
        )
        quadrant = QUADRANTS[rng.integers(0, 4)]
        rows.append((customer, None, quadrant, "import", when))
        for _ in range(int(rng.integers(0, 6))):
            when += pd.Timedelta(hours=int(rng.integers(1, 24 * 120)))
            target = QUADRANTS[(QUADRANTS.index(quadrant) + int(rng.integers(1, 4))) % 4]
            rows.append((customer, quadrant, target, "experience", when))
            quadrant = target
    customer, source, target, cause, at = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "customer": np.asarray(customer, dtype=np.int64),
            "from_quadrant": pd.Categorical(list(source), dtype=quadrants.QUADRANT_TYPE),
            "to_quadrant": pd.Categorical(list(target), dtype=quadrants.QUADRANT_TYPE),
            "cause": pd.Categorical(list(cause), dtype=quadrants.CAUSE_TYPE),
            "at": pd.Series(at).astype("datetime64[us, Asia/Shanghai]"),
        }
    )


def crosstab_of_as_of(history: pd.DataFrame, start: str, end: str) -> pd.DataFrame:
    """The matrix the slow, obvious way: quadrant as of each date, paired by customer."""
    pairs = pd.concat(
        [quadrant_as_of(history, start).rename("from"), quadrant_as_of(history, end).rename("to")],
        axis=1,
        join="inner",
    )
    table = pd.crosstab(pairs["from"], pairs["to"], dropna=False)
    return table.reindex(index=list(QUADRANTS), columns=list(QUADRANTS), fill_value=0)


@pytest.mark.parametrize("parallel_from", [10**9, 1], ids=["one thread", "ranges in threads"])
def test_the_fast_path_agrees_with_the_obvious_one_sorted_or_not(monkeypatch, parallel_from):
    monkeypatch.setattr(quadrants, "PARALLEL_FROM", parallel_from)
    history = random_history(1500)
    expected = crosstab_of_as_of(history, "2025-04-30", "2025-09-30")
    assert expected.to_numpy().sum() > 500
    fast = transition_matrix(history, "2025-04-30", "2025-09-30").to_numpy()
    assert (fast == expected.to_numpy()).all()
    shuffled = history.sample(frac=1.0, random_state=3)
    assert (transition_matrix(shuffled, "2025-04-30", "2025-09-30").to_numpy() == fast).all()
    # Hashed ids (strings) instead of integers.
    named = history.assign(customer=history["customer"].map(lambda c: f"p{c:05d}"))
    assert (transition_matrix(named, "2025-04-30", "2025-09-30").to_numpy() == fast).all()


def test_a_period_that_ends_before_it_starts_is_refused():
    with pytest.raises(ValueError, match="ends before it starts"):
        transition_matrix(HISTORY, "2026-03-31", "2026-01-31")


def test_an_empty_history_gives_an_empty_matrix():
    empty = HISTORY.iloc[:0]
    assert transition_matrix(empty, "2026-01-01", "2026-02-01").to_numpy().sum() == 0
    assert moves_per_cause(empty)["total"].sum() == 0
