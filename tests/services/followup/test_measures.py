"""Seed 003's measures are one table: the follow-up page, its rows and the notebooks read the
same keys, counts and headings, and each has a configured target."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask_babel import force_locale

import analytics.followup
from crm.services.followup.targets import MEASURES, Outcome
from tests.support.pages import EN

pytestmark = pytest.mark.backends("sqlite")


def test_every_measure_has_a_target_a_figure_and_a_heading(app):
    assert set(app.config["CRM_FOLLOWUP_TARGETS"]) == {m.key for m in MEASURES}
    assert analytics.followup.MEASURES is MEASURES
    row = Outcome(
        "all",
        "Overall",
        participating=10,
        converted_to_policy=2,
        converted_to_deposit=3,
        universal_reached=4,
        universal_retained=3,
        complaints_answered=5,
        complaints_satisfied=4,
    )
    assert [getattr(row, m.key) for m in MEASURES] == [
        Decimal("20.0"),
        Decimal("30.0"),
        Decimal("75.0"),
        Decimal("80.0"),
    ]
    with force_locale("zh_CN"):
        assert str(MEASURES[0].heading) % {"n": 20} == "保单转换率（目标 20%）"


def test_the_follow_up_page_shows_each_measure(world, auth):
    auth.login("manager")
    page = auth.client.get("/followup", headers=EN).get_data(as_text=True)
    for m in MEASURES:
        assert f'data-testid="{m.key}"' in page
    assert "Policy conversion (target 20%)" in page
    assert "Satisfaction after complaints (target ≥ 80%)" in page
