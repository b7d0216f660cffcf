"""The monthly ranking (荣誉体系): each figure credited to whoever did the work, the top three
of the chosen column marked."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from crm.extensions import db
from crm.models.enums import CallbackIntent, Role
from crm.services.management import ranking
from crm.services.management.period import Month
from tests.services.management.records import complaint, held_experience, recorded_callback
from tests.support.factories import make_customer, make_staff

pytestmark = pytest.mark.backends("sqlite", "postgresql")

MAY = Month(date(2026, 5, 1), date(2026, 5, 31))
ZONE = "Asia/Shanghai"


def _calls(customer, by, count, intent=CallbackIntent.RENEW, day=5):
    for _ in range(count):
        recorded_callback(customer, by, date(2026, 5, day), intent)


def test_the_top_three_are_marked_and_each_figure_is_the_doer_s(world, app):
    from zoneinfo import ZoneInfo

    dave = make_staff("dave", Role.STAFF, world.east)
    erin = make_staff("erin", Role.STAFF, world.east)
    dave_customer = make_customer(dave, "赵磊", "+8613700004444")
    _calls(world.alice_customer, world.alice, 5, CallbackIntent.NEW_POLICY)
    _calls(world.bob_customer, world.bob, 3)
    _calls(dave_customer, dave, 4, CallbackIntent.DEPOSIT)
    _calls(dave_customer, dave, 2, day=1)  # April's would not count: these are May 1st
    recorded_callback(world.bob_customer, world.bob, date(2026, 4, 30), CallbackIntent.RENEW)
    _calls(world.carol_customer, world.carol, 9)  # another branch
    held_experience(world.bob_customer, world.bob, date(2026, 5, 7))
    complaint(
        world.alice_customer,
        datetime(2026, 5, 2, 2, tzinfo=UTC),
        datetime(2026, 5, 3, 2, tzinfo=UTC),
        world.alice,
        satisfied=True,
        non_routine_surrender=False,
    )
    complaint(
        world.bob_customer,
        datetime(2026, 5, 2, 2, tzinfo=UTC),
        datetime(2026, 5, 3, 2, tzinfo=UTC),
        world.alice,
        satisfied=True,
        non_routine_surrender=True,  # a non-routine surrender never counts as satisfied
    )
    db.session.commit()

    table = ranking.ranking(world.east.id, MAY, "callbacks", zone=ZoneInfo(ZONE))
    by_name = {s.name: s for s in table.standings}
    assert [s.name for s in table.standings[:3]] == [
        dave.display_name,
        world.alice.display_name,
        world.bob.display_name,
    ]
    assert [s.place for s in table.standings[:3]] == [1, 2, 3]
    assert by_name[dave.display_name].callbacks == 6
    assert by_name[dave.display_name].conversions == 4
    assert by_name[world.alice.display_name].conversions == 5
    assert by_name[world.bob.display_name].callbacks == 3
    assert by_name[world.bob.display_name].experiences == 1
    assert by_name[world.alice.display_name].complaints_answered == 2
    assert str(by_name[world.alice.display_name].satisfaction) == "50.0"
    # Nothing done, no place; another branch's staff are not in it.
    assert by_name[erin.display_name].place is None
    assert world.carol.display_name not in by_name

    by_conversions = ranking.ranking(world.east.id, MAY, "conversions", zone=ZoneInfo(ZONE))
    assert [s.place for s in by_conversions.standings[:3]] == [1, 2, None]


def test_equal_figures_share_a_place():
    rows = [
        ranking.Standing(i, name, callbacks=n)
        for i, (name, n) in enumerate([("a", 5), ("b", 5), ("c", 3), ("d", 2), ("e", 0)])
    ]
    ranking.mark_top(rows, "callbacks")
    assert [r.place for r in rows] == [1, 1, 3, None, None]
