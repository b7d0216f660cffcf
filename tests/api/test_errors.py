"""Under /api/ every answer is JSON, errors included; the web pages keep their HTML errors."""

from __future__ import annotations

import sqlalchemy as sa

from crm.extensions import db
from crm.models import Customer
from crm.services.customers import dossier
from tests.api.conftest import ApiClient, counts


def test_unknown_addresses_and_methods_answer_in_json(world, api_as):
    alice = api_as(world.alice)
    missing = alice.get("/api/v1/customer")
    assert missing.status_code == 404 and missing.is_json
    assert missing.get_json()["message"]
    wrong = alice.client.delete(
        f"/api/v1/customers/{world.alice_customer.id}", headers=alice.headers()
    )
    assert wrong.status_code == 405 and wrong.is_json
    assert "PATCH" in wrong.headers["Allow"]
    ids = alice.get("/api/v1/customers/99999999999")  # past any id
    assert ids.status_code == 404 and ids.is_json


def test_a_server_error_is_json_and_writes_nothing(app_factory, world, token_for, monkeypatch):
    app = app_factory(PROPAGATE_EXCEPTIONS=False)
    api = ApiClient(app.test_client(), token_for(world.alice))
    before = counts()

    def broken(user, data):
        db.session.add(Customer(name="半截", phone="+8613512345678", phone_last4="5678"))
        raise RuntimeError("boom")

    monkeypatch.setattr(dossier, "create_customer", broken)
    response = api.post("/api/v1/customers", json={"name": "赵磊", "phone": "13512345678"})
    assert response.status_code == 500 and response.is_json
    body = response.get_json()
    assert "nothing was saved" in body["message"] and "boom" not in response.get_data(as_text=True)
    assert counts() == before


def test_web_pages_keep_their_html_errors(world, auth):
    auth.login("alice")
    response = auth.client.get(f"/customers/{world.carol_customer.id}")
    assert response.status_code == 404 and response.mimetype == "text/html"


def test_the_openapi_description_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert {"/api/v1/customers", "/api/v1/quadrant-events/{event_id}"} <= set(spec["paths"])
    create = spec["components"]["schemas"]["CustomerCreate"]
    assert create["additionalProperties"] is False and create["required"] == ["name", "phone"]
    # Amounts are written as decimal strings, and read from such a string or a JSON number.
    money = spec["components"]["schemas"]["CustomerOut"]["properties"]["liquid_assets"]
    assert (money["type"], money["format"]) == ("string", "decimal")
    given = create["properties"]["liquid_assets"]
    assert [branch["type"] for branch in given["anyOf"]] == ["string", "number"]


def test_shape_and_type_are_checked_before_the_domain_rules(world, api_as):
    response = api_as(world.alice, language="zh-CN").post(
        "/api/v1/customers", json={"name": "赵磊", "phone": "", "vip": True}
    )
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"vip"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 3
