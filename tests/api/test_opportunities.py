"""Opportunities over the API: opened, read, revised and moved with the web's rules; locking;
scope (404); winning with seed 000's compliance."""

from datetime import timedelta

import sqlalchemy as sa

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import AuditLog, Opportunity, Policy, Product
from crm.models.enums import ProductType, RiskLevel

COMPLIANCE = {
    "dual_recording_ref": "SL-2026-000123",
    "returns_notice_shown": True,
    "risk_acknowledged": True,
}


def shelf(kind: ProductType) -> Product:
    return db.session.scalars(sa.select(Product).where(Product.product_type == kind)).first()


def body(customer, kind=ProductType.UNIVERSAL, **changes) -> dict:
    return {
        "customer_id": customer.id,
        "product_id": shelf(kind).id,
        "expected_premium": "120000.00",
        "payment_mode": "regular",
        "expected_close_on": (local_today() + timedelta(days=45)).isoformat(),
    } | changes


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_open_read_move_and_win(world, api_as):
    world.alice_customer.risk_level = RiskLevel.R3
    db.session.commit()
    alice = api_as(world.alice)
    created = alice.post("/api/v1/opportunities", json=body(world.alice_customer))
    assert created.status_code == 201, created.get_json()
    found = created.get_json()
    assert (found["stage"], found["expected_premium"], found["version"]) == ("lead", "120000.00", 1)
    url = f"/api/v1/opportunities/{found['id']}"
    assert alice.get(url).headers["ETag"] == '"1"'

    skipped = alice.post(url + "/stage", json={"stage": "closing", "version": 1})
    assert skipped.status_code == 422 and list(skipped.get_json()["errors"]) == ["stage"]
    for version, stage in ((1, "needs"), (2, "proposal"), (3, "closing")):
        moved = alice.post(url + "/stage", json={"stage": stage, "version": version})
        assert moved.status_code == 200 and moved.get_json()["stage"] == stage

    sale = {"policy_number": "API-WIN-1"}
    refused = alice.post(url + "/stage", json={"stage": "won", "policy": sale, "version": 4})
    assert refused.status_code == 422
    assert set(refused.get_json()["errors"]) == set(COMPLIANCE)
    assert count(Policy) == 0
    won = alice.post(
        url + "/stage", json={"stage": "won", "policy": sale | COMPLIANCE, "version": 4}
    )
    assert won.status_code == 200 and won.get_json()["stage"] == "won"
    policy = db.session.scalars(sa.select(Policy)).one()
    assert policy.opportunity_id == found["id"] and policy.risk_acknowledged
    again = alice.post(url + "/stage", json={"stage": "lost", "lost_reason": "x", "version": 5})
    assert again.status_code == 422


def test_stale_versions_are_409_and_nothing_is_written(world, api_as):
    world.alice_customer.risk_level = RiskLevel.R3
    db.session.commit()
    alice = api_as(world.alice)
    found = alice.post("/api/v1/opportunities", json=body(world.alice_customer)).get_json()
    url = f"/api/v1/opportunities/{found['id']}"
    assert alice.patch(url, json={"notes": "客户关注教育金", "version": 1}).status_code == 200
    stale = alice.patch(url, json={"expected_premium": "1.00", "version": 1})
    assert stale.status_code == 409 and stale.get_json()["changed_fields"] == ["notes"]
    assert alice.post(url + "/stage", json={"stage": "needs", "version": 1}).status_code == 409
    assert alice.patch(url, json={"notes": "x"}).status_code == 428
    db.session.expire_all()
    assert db.session.get(Opportunity, found["id"]).version == 2


def test_bad_input_is_refused_with_nothing_written(world, api_as):
    alice = api_as(world.alice)
    before = (count(Opportunity), count(AuditLog))
    for change, field in (
        ({"expected_premium": "-1"}, "expected_premium"),
        ({"expected_premium": "lots"}, "expected_premium"),
        ({"expected_close_on": "2020-01-01"}, "expected_close_on"),
        ({"product_id": shelf(ProductType.INVESTMENT_LINKED).id}, "product_id"),  # R4 > R2
        ({"payment_mode": "monthly"}, "payment_mode"),
    ):
        response = alice.post("/api/v1/opportunities", json=body(world.alice_customer, **change))
        assert response.status_code == 422, change
        assert field in response.get_json()["errors"], response.get_json()
    assert (count(Opportunity), count(AuditLog)) == before


def test_outside_ones_scope_is_404(world, api_as):
    world.carol_customer.risk_level = RiskLevel.R3
    db.session.commit()
    carol = api_as(world.carol)
    theirs = carol.post("/api/v1/opportunities", json=body(world.carol_customer)).get_json()
    alice = api_as(world.alice)
    assert alice.post("/api/v1/opportunities", json=body(world.carol_customer)).status_code == 404
    url = f"/api/v1/opportunities/{theirs['id']}"
    assert alice.get(url).status_code == 404
    assert alice.patch(url, json={"notes": "x", "version": 1}).status_code == 404
    assert alice.post(url + "/stage", json={"stage": "needs", "version": 1}).status_code == 404
    assert alice.get("/api/v1/opportunities").get_json()["items"] == []
    admin = api_as(world.admin).get("/api/v1/opportunities?stage=lead").get_json()
    assert [o["id"] for o in admin["items"]] == [theirs["id"]]
