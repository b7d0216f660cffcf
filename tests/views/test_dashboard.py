"""The dashboard, the ranking page and the sheets' downloads: who may open them, whose
figures they show, and periods that are refused with a message, never a server error."""

from __future__ import annotations

import re
from datetime import date

import pytest

from crm.extensions import db
from crm.models.enums import CallbackIntent
from tests.services.management.records import recorded_callback
from tests.support.pages import EN, text_of

pytestmark = pytest.mark.backends("sqlite", "postgresql")


@pytest.mark.parametrize(
    "query, message",
    [
        ("from=2026-09-01&to=2026-03-01", "The period ends before it starts"),
        ("to=10000-01-01", "Enter dates as YYYY-MM-DD"),
        ("from=9999-12-31", "Enter dates as YYYY-MM-DD"),
        ("from=2026-02-30", "Enter dates as YYYY-MM-DD"),
        ("from=2020-01-01&to=2026-01-01", "at most 36 months"),
    ],
)
def test_a_bad_period_gets_a_message_and_the_default_period(world, auth, query, message):
    auth.login("manager")
    answer = auth.client.get(f"/dashboard?{query}", headers=EN)
    assert answer.status_code == 400
    page = text_of(answer.get_data(as_text=True))
    assert message in page and "the default period is shown instead" in page
    assert 'data-testid="quadrants"' in answer.get_data(as_text=True)


def test_staff_cannot_open_the_dashboard_but_see_their_branch_ranking(world, auth):
    auth.login("alice")
    assert auth.client.get("/dashboard").status_code == 404
    assert auth.client.get("/followup/sheets/callbacks.csv").status_code == 404
    page = auth.client.get("/dashboard/ranking", headers=EN).get_data(as_text=True)
    assert "城东支行" in page and "Alice" in page and "Carol" not in page


def budget_customers(page: str) -> int:
    """The customers counted in the budget table (one row a quadrant)."""
    rows = re.findall(r'<tr data-quadrant="\w+"><th>[^<]*</th><td class="num">(\d+)</td>', page)
    assert len(rows) == 4
    return sum(int(n) for n in rows)


def test_a_manager_sees_their_branch_and_an_admin_chooses(world, auth):
    auth.login("manager")
    page = auth.client.get(f"/dashboard?branch={world.west.id}", headers=EN)
    assert page.status_code == 200  # a manager's choice of branch is ignored: theirs is shown
    # The world's three customers: two in the east branch, one in the west.
    assert budget_customers(page.get_data(as_text=True)) == 2
    auth.logout()
    auth.login("admin")
    everyone = auth.client.get("/dashboard", headers=EN).get_data(as_text=True)
    assert budget_customers(everyone) == 3
    west = auth.client.get(f"/dashboard?branch={world.west.id}", headers=EN)
    assert budget_customers(west.get_data(as_text=True)) == 1
    for branch in ("999999", "99999999999999999999999", "x"):
        missing = auth.client.get(f"/dashboard?branch={branch}", headers=EN)
        assert missing.status_code == 400 and "There is no such branch" in text_of(
            missing.get_data(as_text=True)
        )


def test_every_chart_has_its_data_and_a_table(world, auth):
    auth.login("manager")
    page = auth.client.get("/dashboard", headers=EN).get_data(as_text=True)
    for chart in ("quadrants", "migrations", "assets", "budget", "followup", "complaints"):
        assert f'id="chart-{chart}" data-chart="' in page
        assert f'data-testid="{chart}"' in page
    assert page.count('<table class="figures">') >= 6
    assert "/static/vendor/echarts.min.js" in page


def test_the_sheets_download_from_the_follow_up_page(world, auth):
    recorded_callback(world.alice_customer, world.alice, date(2026, 5, 3), CallbackIntent.DEPOSIT)
    db.session.commit()
    auth.login("manager")
    page = auth.client.get("/followup?from=2026-05-01&to=2026-05-31", headers=EN)
    assert "/followup/sheets/callbacks.xlsx?from=2026-05-01&amp;to=2026-05-31" in page.get_data(
        as_text=True
    )
    answer = auth.client.get(
        "/followup/sheets/callbacks.csv?from=2026-05-01&to=2026-05-31", headers=EN
    )
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    lines = answer.get_data().decode("utf-8-sig").splitlines()
    assert lines[0].startswith("No.,Date recorded,Customer name,Policy number")
    assert len(lines) == 2 and "张伟" in lines[1]
    refused = auth.client.get(
        "/followup/sheets/complaints.xlsx?from=2026-06-01&to=2026-05-01", headers=EN
    )
    assert refused.status_code == 302
    assert auth.client.get("/followup/sheets/other.pdf").status_code == 404
