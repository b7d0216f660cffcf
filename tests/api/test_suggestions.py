"""Next best experience over the API: the dossier's suggestions, in the caller's language,
within the customers the token's holder may see, described in the OpenAPI document."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crm.extensions import db
from crm.models.enums import Mark, MoveCause, Quadrant
from crm.services.advice import effects
from crm.services.customers import tiering
from crm.services.planning import budget, matrix

PATH = "/api/v1/customers/{customer_id}/suggestions"


@pytest.fixture
def develop(world):
    effects.forget()
    customer = world.alice_customer
    customer.sms_consent = True
    tiering.place(customer, MoveCause.IMPORT, None, first=True)
    customer.created_at = customer.created_at - timedelta(days=30)
    db.session.commit()
    assert customer.quadrant == Quadrant.DEVELOP
    return customer


def test_a_customers_suggestions_with_reasons_never_refused_by_matrix_or_budget(
    world, develop, api_as
):
    response = api_as(world.alice).get(PATH.format(customer_id=develop.id))
    assert response.status_code == 200
    body = response.get_json()
    assert body["customer_id"] == develop.id
    found = body["suggestions"]
    assert [s["category"] for s in found] == ["routine", "visit"]  # √ √; the ◎ event waits
    remaining = budget.budget_for(develop).remaining
    rules = matrix.rules()
    for s in found:
        assert s["mark"] != Mark.NEVER.value
        assert rules[(Quadrant.DEVELOP, s["category"])].mark.value == s["mark"]
        assert float(s["planned_cost"]) <= remaining
        assert 0 < s["expected_positive_share"] < 1 and s["history_count"] == 0
        assert "every" in s["reason"] and s["last_held_on"] is None


def test_reasons_in_the_language_asked_for(world, develop, api_as):
    found = api_as(world.alice, "zh-CN").get(PATH.format(customer_id=develop.id)).get_json()
    assert "每 180 天一次" in found["suggestions"][1]["reason"]
    assert "；" in found["suggestions"][1]["reason"]


def test_another_staff_members_customer_is_not_found(world, develop, api_as):
    response = api_as(world.bob).get(PATH.format(customer_id=develop.id))
    assert response.status_code == 404
    assert api_as(world.alice).get(PATH.format(customer_id=999999)).status_code == 404


def test_the_description_documents_it(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/customers/{customer_id}/suggestions"]["get"]
    assert {"200", "401", "404"} <= set(operation["responses"])
    schema = spec["components"]["schemas"]["SuggestionOut"]["properties"]
    assert {"category", "mark", "planned_cost", "reason", "product"} <= set(schema)
