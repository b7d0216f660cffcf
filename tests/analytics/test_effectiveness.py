"""Experience effectiveness and budgets on hand-built histories."""

from __future__ import annotations

import math

import pandas as pd

from analytics.budget import budget_use, spend
from analytics.effectiveness import effectiveness, followed_by_upward_move
from tests.analytics.history import events, experiences

HISTORY = events(
    [
        ("a", None, "develop", "import", "2026-01-01 09:00"),
        # a's visit of 10 February moved a up, recorded with it as the cause.
        ("a", "develop", "maintain", "experience", "2026-02-10 15:00", 1),
        ("b", None, "cultivate", "import", "2026-01-02 09:00"),
        # b moved up 26 days after the premium event of 25 January (another visit's record).
        ("b", "cultivate", "pamper", "experience", "2026-02-20 10:00", 9),
        ("c", None, "maintain", "import", "2026-01-03 09:00"),
        ("c", "maintain", "develop", "complaint", "2026-01-28 10:00"),
    ]
)
EXPERIENCES = experiences(
    [
        (1, "a", "visit", "done", "2026-02-10", 80.0),
        (2, "c", "visit", "done", "2026-01-20", 150.0),
        (3, "b", "premium_event", "done", "2026-01-25", 2000.0),
        (4, "a", "lifestyle", "done", "2026-03-20", 5000.0),
        (5, "c", "visit", "no_show", "2026-01-21", None),
        (6, "c", "visit", "planned", None, None),
    ]
)


def test_each_held_experience_knows_its_quadrant_and_what_followed():
    rows = followed_by_upward_move(EXPERIENCES, HISTORY, within_days=30).set_index("experience_id")
    assert sorted(rows.index) == [1, 2, 3, 4]  # only those held
    assert rows["quadrant"].astype(object).to_dict() == {
        1: "develop",  # a, before the visit's own move that day
        2: "maintain",
        3: "cultivate",
        4: "maintain",
    }
    assert rows["followed_up"].to_dict() == {1: True, 2: False, 3: True, 4: False}
    assert rows.loc[1, "days_to_up"] == 0 and rows.loc[3, "days_to_up"] == 26
    assert rows["direct_up"].to_dict() == {1: True, 2: False, 3: False, 4: False}
    # c's move down after its visit is no upward move.
    assert math.isnan(rows.loc[2, "days_to_up"])


def test_effectiveness_per_category_shares_and_cost_per_upward_move():
    table = effectiveness(EXPERIENCES, HISTORY, within_days=30)
    visit = table.loc["visit"]
    assert (visit["experiences"], visit["cost"], visit["followed_up"]) == (2, 230.0, 1)
    assert visit["share_up"] == 0.5
    assert visit["cost_per_up"] == 230.0
    assert visit["direct_up"] == 1 and visit["cost_per_direct_up"] == 230.0
    premium = table.loc["premium_event"]
    assert (premium["followed_up"], premium["cost_per_up"], premium["direct_up"]) == (1, 2000, 0)
    assert math.isnan(premium["cost_per_direct_up"])
    lifestyle = table.loc["lifestyle"]
    assert lifestyle["share_up"] == 0 and math.isnan(lifestyle["cost_per_up"])


def test_the_window_and_the_period_narrow_what_counts():
    narrow = effectiveness(EXPERIENCES, HISTORY, within_days=20)
    assert narrow.loc["premium_event", "followed_up"] == 0  # 26 days is past 20
    # The last day of the window still counts: 26 days after is within 26.
    assert effectiveness(EXPERIENCES, HISTORY, within_days=26).loc[
        "premium_event", "followed_up"
    ] == (1)
    february = effectiveness(EXPERIENCES, HISTORY, start="2026-02-01", end="2026-02-28")
    assert list(february.index) == ["visit"]
    assert february.loc["visit", "experiences"] == 1


def test_effectiveness_per_quadrant_and_category():
    table = effectiveness(EXPERIENCES, HISTORY, by=["quadrant", "category"])
    assert table.loc[("develop", "visit"), "share_up"] == 1.0
    assert table.loc[("maintain", "visit"), "share_up"] == 0.0
    assert table.loc[("cultivate", "premium_event"), "cost_per_up"] == 2000.0


def test_budget_use_per_quadrant():
    usage = pd.DataFrame(
        {
            "customer": ["a", "b", "c", "d"],
            "quadrant": pd.Categorical(
                ["develop", "develop", "develop", "pamper"],
                categories=["develop", "maintain", "cultivate", "pamper"],
            ),
            "limit": [300.0, 300.0, 300.0, 80000.0],
            "used": [150.0, 290.0, 300.0, 0.0],
        }
    )
    table = budget_use(usage)
    develop = table.loc["develop"]
    assert (develop["customers"], develop["budget"], develop["used"]) == (3, 900.0, 740.0)
    assert round(develop["share_used"], 4) == round(740 / 900, 4)
    assert round(develop["median_share"], 4) == round(290 / 300, 4)
    assert (develop["near_limit"], develop["at_limit"]) == (1, 1)
    assert table.loc["maintain", "customers"] == 0
    assert table.loc["pamper", "share_used"] == 0.0
    assert list(table.index) == ["develop", "maintain", "cultivate", "pamper"]


def test_spend_per_quadrant_at_the_time_and_category():
    table = spend(EXPERIENCES, HISTORY, "2026-01-01", "2026-02-28")
    assert table.loc["develop", "visit"] == 80.0  # a, still develop that morning
    assert table.loc["maintain", "visit"] == 150.0
    assert table.loc["cultivate", "premium_event"] == 2000.0
    assert table.loc["maintain", "total"] == 150.0
    assert table["total"].sum() == 2230.0  # the March lifestyle service is outside
