"""The experience matrix as migrated (seed 004), its cadences, and the cost limits."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models.enums import PLANNED_MARKS, Mark, Quadrant, Touchpoint
from crm.services.planning import matrix

SYMBOL = {"√": Mark.SHOULD, "☆": Mark.STRATEGIC, "◎": Mark.DISCRETIONARY, "×": Mark.NEVER}
# Seed 004's table: one row per quadrant, categories cheapest first.
SEED = {
    Quadrant.DEVELOP: "√ √ ◎ × × ×",
    Quadrant.MAINTAIN: "√ ☆ ☆ ◎ × ×",
    Quadrant.CULTIVATE: "√ √ ☆ √ ◎ ×",
    Quadrant.PAMPER: "√ √ × √ ☆ ☆",
}


def test_categories_come_cheapest_first(app):
    assert [c.key for c in matrix.categories()] == list(Touchpoint)
    costs = [c.unit_cost for c in matrix.categories()]
    assert costs == sorted(costs)


def test_migrated_matrix_is_seed_004s_table(app):
    rules = matrix.rules()
    assert len(rules) == len(Quadrant) * len(Touchpoint)
    for quadrant, row in SEED.items():
        for category, symbol in zip(Touchpoint, row.split(), strict=True):
            rule = rules[(quadrant, category)]
            assert rule.mark == SYMBOL[symbol], (quadrant, category)
            if rule.mark in PLANNED_MARKS:
                assert rule.interval_days is not None and rule.interval_days >= 1
            else:
                assert rule.interval_days is None, (quadrant, category)


def sends_in_windows(interval: int, window: int) -> set[int]:
    """How many sends, one every ``interval`` days, fall in each ``window``-day stretch."""
    return {
        sum(1 for day in range(start, start + window) if day % interval == 0)
        for start in range(interval)
    }


@pytest.mark.parametrize("quadrant", list(Quadrant))
def test_routine_cadence_gives_one_or_two_sms_a_week_and_six_a_month(app, quadrant):
    # Seed 004: SMS 1–2 a week and at least 6 a month.
    interval = matrix.rule_for(quadrant, Touchpoint.ROUTINE).interval_days
    assert interval == 4
    assert sends_in_windows(interval, 7) <= {1, 2}
    assert min(sends_in_windows(interval, 30)) >= 6


def test_cost_limits_are_configuration_until_an_admin_changes_one(app, world, monkeypatch):
    monkeypatch.setitem(
        app.config,
        "CRM_COST_LIMITS",
        {"develop": "350", "maintain": "2000.00", "cultivate": "20000.00", "pamper": "80000.00"},
    )
    assert matrix.cost_limits() == {
        Quadrant.DEVELOP: Decimal("350.00"),
        Quadrant.MAINTAIN: Decimal("2000.00"),
        Quadrant.CULTIVATE: Decimal("20000.00"),
        Quadrant.PAMPER: Decimal("80000.00"),
    }

    changes = matrix.update_matrix(world.admin, {"limit.maintain": "2500"})
    db.session.commit()

    assert changes == {"limit.maintain": (Decimal("2000.00"), Decimal("2500.00"))}
    limits = matrix.cost_limits()
    assert limits[Quadrant.MAINTAIN] == Decimal("2500.00")
    assert limits[Quadrant.DEVELOP] == Decimal("350.00")


def test_one_bad_value_writes_nothing(app, world):
    with pytest.raises(InvalidInput) as refused:
        matrix.update_matrix(
            world.admin,
            {"limit.develop": "500", "unit_cost.visit": "90", "interval.develop.routine": "400"},
        )
    assert set(refused.value.errors) == {"interval.develop.routine"}
    db.session.rollback()
    assert matrix.cost_limits()[Quadrant.DEVELOP] == Decimal(
        app.config["CRM_COST_LIMITS"]["develop"]
    )
    assert matrix.unit_cost(Touchpoint.VISIT) == Decimal("80.00")
    assert matrix.rule_for(Quadrant.DEVELOP, Touchpoint.ROUTINE).interval_days == 4
