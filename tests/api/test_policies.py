"""Policies over the API: within the customers one may see, with the UI's rules and locking."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditLog, Policy
from crm.models.enums import PaymentMode, PolicyStatus, ProductType
from tests.api.conftest import counts

POLICY = {
    "policy_number": "gs-2024-0001",
    "product_name": "鑫享年金",
    "product_type": "annuity",
    "premium": "50000.00",
    "payment_mode": "regular",
    "start_date": "2024-03-01",
    "maturity_date": "2034-03-01",
}
# Seed 000's compliance record, which an investment-type sale needs.
COMPLIANCE = {
    "dual_recording_ref": "SL-2024-000123",
    "returns_notice_shown": True,
    "risk_acknowledged": True,
}


def add(customer, number: str, status=PolicyStatus.IN_FORCE) -> Policy:
    policy = Policy(
        customer=customer,
        policy_number=number,
        product_name="安康终身",
        product_type=ProductType.WHOLE_LIFE,
        premium=Decimal("12000.00"),
        payment_mode=PaymentMode.SINGLE,
        start_date=date(2023, 5, 1),
        status=status,
        version=1,
    )
    db.session.add(policy)
    db.session.commit()
    return policy


def numbers(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [p["policy_number"] for p in response.get_json()["items"]]


def test_add_a_policy_to_a_dossier(world, api_as):
    world.alice_customer.risk_level = "R2"  # annuities are savings products (R2)
    db.session.commit()
    url = f"/api/v1/customers/{world.alice_customer.id}/policies"
    response = api_as(world.alice).post(url, json=POLICY)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["policy_number"] == "GS-2024-0001" and body["premium"] == "50000.00"
    assert response.headers["Location"] == f"/api/v1/policies/{body['id']}"
    row = db.session.scalar(
        sa.select(AuditLog).where(AuditLog.entity == "policy", AuditLog.field == "premium")
    )
    assert (row.action, row.actor_id, row.new_value) == ("create", world.alice.id, "50000.00")


def test_policy_rules_and_types_refused_with_nothing_written(world, api_as):
    world.alice_customer.risk_level = "R2"
    add(world.bob_customer, "TAKEN-1")
    alice = api_as(world.alice)
    url = f"/api/v1/customers/{world.alice_customer.id}/policies"
    before = counts()
    for change, field in (
        ({"policy_number": "taken-1"}, "policy_number"),
        ({"premium": "0"}, "premium"),
        ({"premium": True}, "premium"),
        ({"maturity_date": "2020-01-01"}, "maturity_date"),
        ({"start_date": "2024-02-30"}, "start_date"),
        ({"payment_mode": "monthly"}, "payment_mode"),
        # R4 for an R2 customer
        ({"product_type": "investment_linked", **COMPLIANCE}, "product_type"),
        ({"status": 3}, "status"),
        ({"insurer": "国寿"}, "insurer"),
    ):
        response = alice.post(url, json=POLICY | change)
        assert response.status_code == 422, (change, response.get_json())
        assert list(response.get_json()["errors"]) == [field], response.get_json()
    assert counts() == before


def test_policies_of_customers_one_may_not_see_are_404(world, api_as):
    carols = add(world.carol_customer, "W-1")
    alice = api_as(world.alice)
    assert alice.get(f"/api/v1/policies/{carols.id}").status_code == 404
    response = alice.post(f"/api/v1/customers/{world.carol_customer.id}/policies", json=POLICY)
    assert response.status_code == 404
    response = alice.patch(f"/api/v1/policies/{carols.id}", json={"premium": "1", "version": 1})
    assert response.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Policy)) == 1


def test_list_is_scoped_and_filtered(world, api_as):
    add(world.alice_customer, "A-1")
    add(world.alice_customer, "A-2", PolicyStatus.MATURED)
    add(world.bob_customer, "B-1")
    add(world.carol_customer, "C-1")
    alice, manager = api_as(world.alice), api_as(world.manager)
    assert numbers(alice.get("/api/v1/policies")) == ["A-1", "A-2"]
    assert numbers(manager.get("/api/v1/policies")) == ["A-1", "A-2", "B-1"]
    assert numbers(manager.get("/api/v1/policies", query_string={"status": "matured"})) == ["A-2"]
    one = manager.get("/api/v1/policies", query_string={"customer_id": world.bob_customer.id})
    assert numbers(one) == ["B-1"]
    # Another branch's customer: nothing, rather than a leak.
    other = alice.get("/api/v1/policies", query_string={"customer_id": world.carol_customer.id})
    assert numbers(other) == []


def test_pagination_walks_every_policy_once(world, api_as):
    for i in range(7):
        add(world.alice_customer, f"P-{i}")
    alice = api_as(world.alice)
    seen, cursor = [], None
    while True:
        query = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        body = alice.get("/api/v1/policies", query_string=query).get_json()
        seen += [p["policy_number"] for p in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"P-{i}" for i in range(7)]


def test_update_with_locking(world, api_as):
    policy = add(world.alice_customer, "A-1")
    alice = api_as(world.alice)
    url = f"/api/v1/policies/{policy.id}"
    response = alice.patch(url, json={"status": "surrendered", "version": 1})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "surrendered" and response.get_json()["version"] == 2
    before = counts()
    stale = alice.patch(url, json={"premium": "99.00"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 409
    assert stale.get_json()["current_version"] == 2
    assert stale.get_json()["changed_fields"] == ["status"]
    assert counts() == before
    db.session.expire_all()
    assert db.session.get(Policy, policy.id).premium == Decimal("12000.00")
