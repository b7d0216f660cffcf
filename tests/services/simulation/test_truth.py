"""The simulator's truth file: what it accepts, what it refuses, and how a fractional effect
becomes whole willingness points."""

from __future__ import annotations

import random
import statistics

import pytest

from crm.models.enums import Quadrant, Touchpoint
from crm.services.simulation import truth


def test_named_quadrants_and_the_rest(tmp_path):
    path = tmp_path / "effects.toml"
    path.write_text(
        '[visit]\ndevelop = 4\nmaintain = 2.5\n"*" = 1\n\n[event]\n"*" = 0\n', encoding="utf-8"
    )
    effects = truth.read_effects(path)
    assert effects.of(Quadrant.DEVELOP, Touchpoint.VISIT) == 4
    assert effects.of("maintain", "visit") == 2.5
    assert effects.of(Quadrant.PAMPER, Touchpoint.VISIT) == 1
    assert all(effects.of(q, Touchpoint.EVENT) == 0 for q in Quadrant)
    # Left out: the customer model decides.
    assert effects.of(Quadrant.PAMPER, Touchpoint.BESPOKE) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[visits]\ndevelop = 1\n", "Unknown touchpoint category visits"),
        ("[visit]\nrich = 1\n", "Unknown quadrant rich"),
        ('[visit]\ndevelop = "a lot"\n', "visit.develop: the effect is a number"),
        ("[visit]\ndevelop = 150\n", "from -100 to 100"),
        ("visit = 3\n", "[visit] needs quadrant = points lines"),
        ("[visit\n", "not TOML"),
    ],
)
def test_a_file_that_is_not_effects_is_refused_saying_why(tmp_path, text, message):
    path = tmp_path / "effects.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(truth.EffectsRefused, match=message.replace("[", r"\[")):
        truth.read_effects(path)


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(truth.EffectsRefused, match="Cannot read the effects file"):
        truth.read_effects(tmp_path / "none.toml")


def test_a_fractional_effect_keeps_its_mean_and_stays_within_the_scale():
    rng = random.Random(7)
    draws = [truth.whole_points(rng, 2.5) for _ in range(4000)]
    assert set(draws) == {2, 3}
    assert statistics.mean(draws) == pytest.approx(2.5, abs=0.05)
    assert truth.willingness_after(rng, 98, 4) == 100
    assert truth.willingness_after(rng, 1, -3) == 0
    # A whole effect draws nothing: the seeded history is not moved by it.
    state = rng.getstate()
    assert truth.whole_points(rng, 4.0) == 4
    assert rng.getstate() == state


def test_the_ledger_adds_up_per_customer_within_the_window():
    from datetime import date

    ledger = truth.Ledger()
    for customer, category, day, points in [
        (1, Touchpoint.VISIT, date(2026, 1, 5), 4),
        (1, Touchpoint.VISIT, date(2026, 2, 5), 4),
        (2, Touchpoint.VISIT, date(2026, 3, 5), 3),
        (2, Touchpoint.EVENT, date(2026, 1, 9), 0),
    ]:
        ledger.add(truth.Applied(customer, category, day, points))
    assert ledger.points_by_customer(date(2026, 1, 1), date(2026, 3, 1), "visit") == {1: 8}
    assert ledger.points_by_customer(date(2026, 1, 1), date(2026, 3, 6)) == {1: 8, 2: 3}
    assert ledger.totals() == {Touchpoint.VISIT: (3, 11), Touchpoint.EVENT: (1, 0)}
