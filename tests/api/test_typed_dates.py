"""Dates and times in the API lie within the app's calendar, as in the forms
(``crm.core.inputs.date_refusal``): outside it, a message in the requester's language, never
a 500 and nothing written."""

from __future__ import annotations

import pytest

from crm.models import Customer
from tests.support.pages import count

pytestmark = pytest.mark.backends("sqlite")


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/v1/customers", {"name": "赵磊", "phone": "13512345678", "birth_date": "0001-01-01"}),
        (
            "/api/v1/customers",
            {"name": "赵磊", "phone": "13512345678", "assets_as_of": "9999-12-31"},
        ),
    ],
)
def test_api_dates_outside_the_calendar_are_refused_in_words(world, api_as, url, body):
    """A date in a body is judged by its meaning, in the domain's words."""
    response = api_as(world.alice, "zh-CN").post(url, json=body)
    assert response.status_code == 422
    ((field, message),) = response.get_json()["errors"].items()
    assert field in body and message.endswith("。")
    assert count(Customer) == 3


@pytest.mark.parametrize(
    "query",
    [
        "/api/v1/quadrant-events?since=0001-01-01T00:00:00%2B01:00",
        "/api/v1/quadrant-events?until=9999-12-31T23:59:59-01:00",
    ],
)
def test_an_api_time_with_no_utc_equivalent_is_refused_in_words_not_a_500(world, api_as, query):
    response = api_as(world.alice).get(query)
    assert response.status_code == 422
    assert "Enter a date from 1900-01-01 to" in str(response.get_json()["errors"])


def test_a_missing_value_in_the_api_is_said_in_chinese_words(world, api_as):
    response = api_as(world.alice, "zh-CN").post(
        "/api/v1/customers", json={"name": None, "phone": "13512345678"}
    )
    assert response.get_json()["errors"] == {"name": "此项不能为空。"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("/api/v1/experiences?due_from=0001-01-01", "due_from"),
        ("/api/v1/experiences?due_until=9999-12-31", "due_until"),
        ("/api/v1/quadrant-events?since=1899-12-31T23:59:59Z", "since"),
        ("/api/v1/quadrant-events?until=9999-12-30T00:00:00Z", "until"),
    ],
)
def test_a_list_filter_date_outside_the_calendar_is_refused_in_words(world, api_as, query, field):
    """A filter in the year 1 or 9999 means nothing: 422 naming the range, in Chinese."""
    response = api_as(world.alice, "zh-CN").get(query)
    assert response.status_code == 422
    message = response.get_json()["errors"][field]
    assert "1900-01-01" in message and message.endswith("。")


def test_list_filter_dates_within_the_calendar_still_filter(world, api_as):
    client = api_as(world.alice)
    response = client.get("/api/v1/experiences?due_from=1900-01-01&due_until=2100-12-31")
    assert response.status_code == 200
    response = client.get("/api/v1/quadrant-events?since=1900-01-01T00:00:00Z")
    assert response.status_code == 200
