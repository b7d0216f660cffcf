"""Experiences and quadrant events over the API: plan, record (the dossier revised and the
customer re-tiered with it), list and read, within the customers one may see."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import Customer, Experience, Product, QuadrantEvent
from crm.models.enums import ExperienceStatus, MoveCause, ProductType, Touchpoint
from crm.services.customers import dossier, tiering
from crm.services.experiences import plans
from crm.services.planning import matrix
from tests.api.conftest import counts


@pytest.fixture
def develop(world):
    """Alice's customer, placed in "develop" a month ago, just below the willingness line."""
    customer = world.alice_customer
    customer.willingness = 57
    tiering.place(customer, MoveCause.IMPORT, None, first=True)
    customer.created_at = customer.created_at - timedelta(days=30)
    db.session.commit()
    return customer


def planned(user, customer) -> Experience:
    experience = plans.add_experience(
        user, customer, {"category": "visit", "due_on": local_today()}
    )
    db.session.commit()
    return experience


def test_plan_an_experience(world, develop, api_as):
    url = f"/api/v1/customers/{develop.id}/experiences"
    response = api_as(world.alice).post(
        url, json={"category": "visit", "due_on": local_today().isoformat(), "notes": "带资料"}
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "planned" and body["origin"] == "staff"
    assert body["planned_cost"] == f"{matrix.unit_cost(Touchpoint.VISIT):.2f}"  # left out
    assert body["created_by_id"] == world.alice.id


def test_over_budget_needs_a_managers_reason(world, develop, api_as):
    url = f"/api/v1/customers/{develop.id}/experiences"
    plan = {"category": "visit", "due_on": local_today().isoformat(), "planned_cost": "350"}
    alice, manager = api_as(world.alice), api_as(world.manager)
    before = counts()
    refused = alice.post(url, json=plan)
    assert refused.status_code == 422
    assert "¥50.00" in refused.get_json()["errors"]["planned_cost"]
    assert counts() == before
    approved = manager.post(url, json=plan | {"approval_reason": "客户生日, 行长特批"})
    assert approved.status_code == 201, approved.get_json()
    assert approved.get_json()["approved_by_id"] == world.manager.id


def test_record_revises_the_dossier_and_moves_the_customer(world, develop, api_as):
    experience = planned(world.alice, develop)
    response = api_as(world.alice).post(
        f"/api/v1/experiences/{experience.id}/record",
        json={
            "outcome": "done",
            "held_on": local_today().isoformat(),
            "response": "positive",
            "actual_cost": "95.50",
            "version": experience.version,
            "customer_version": develop.version,
        },
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["moved_from"], body["moved_to"]) == ("develop", "maintain")
    assert body["experience"]["status"] == "done"
    assert body["experience"]["actual_cost"] == "95.50"
    assert body["customer"]["quadrant"] == "maintain" and body["customer"]["willingness"] == 62
    move = db.session.scalars(sa.select(QuadrantEvent).where(QuadrantEvent.cause == "experience"))
    assert move.one().experience_id == experience.id


def test_record_with_a_stale_customer_version_is_409(world, develop, api_as):
    experience = planned(world.alice, develop)
    stale_version = develop.version
    meanwhile = dossier.form_values(develop) | {"notes": "changed meanwhile"}
    dossier.update_customer(world.manager, develop, meanwhile, stale_version)
    db.session.commit()
    alice = api_as(world.alice)
    before = counts()
    response = alice.post(
        f"/api/v1/experiences/{experience.id}/record",
        json={
            "outcome": "done",
            "held_on": local_today().isoformat(),
            "response": "positive",
            "version": experience.version,
            "customer_version": stale_version,
        },
    )
    assert response.status_code == 409
    body = response.get_json()
    assert body["current_customer_version"] == stale_version + 1
    assert body["current_version"] == experience.version and body["changed_fields"] == ["notes"]
    assert counts() == before
    db.session.expire_all()
    assert db.session.get(Experience, experience.id).status == ExperienceStatus.PLANNED


def test_bad_records_are_refused_and_write_nothing(world, develop, api_as):
    experience = planned(world.alice, develop)
    alice = api_as(world.alice)
    url = f"/api/v1/experiences/{experience.id}/record"
    risky = db.session.scalar(
        sa.select(Product.id).where(Product.product_type == ProductType.INVESTMENT_LINKED)
    )
    good = {
        "outcome": "done",
        "held_on": local_today().isoformat(),
        "response": "positive",
        "version": experience.version,
        "customer_version": develop.version,
    }
    before = counts()
    for change, status, field in (
        ({"actual_cost": "-20"}, 422, "actual_cost"),
        ({"outcome": "planned"}, 422, "outcome"),
        ({"held_on": (local_today() + timedelta(days=2)).isoformat()}, 422, "held_on"),
        ({"willingness": 101}, 422, "willingness"),
        ({"willingness": "a lot"}, 422, "willingness"),
        ({"customer_version": None}, 422, "customer_version"),
        ({"rating": 5}, 422, "rating"),
        ({"product_id": risky}, 422, "product_id"),  # R4, for an R1 customer
        ({"product_id": 999999}, 422, "product_id"),
    ):
        response = alice.post(url, json=good | change)
        assert response.status_code == status, (change, response.get_json())
        assert field in response.get_json()["errors"], response.get_json()
    assert counts() == before


def test_experiences_are_listed_and_read_within_scope(world, develop, api_as):
    mine = planned(world.alice, develop)
    carols = planned(world.carol, world.carol_customer)
    alice = api_as(world.alice)
    body = alice.get("/api/v1/experiences").get_json()
    assert [e["id"] for e in body["items"]] == [mine.id]
    assert alice.get(f"/api/v1/experiences/{mine.id}").status_code == 200
    assert alice.get(f"/api/v1/experiences/{carols.id}").status_code == 404
    response = alice.post(
        f"/api/v1/experiences/{carols.id}/record",
        json={"outcome": "cancelled", "version": 1, "customer_version": 1},
    )
    assert response.status_code == 404
    response = alice.post(
        f"/api/v1/customers/{world.carol_customer.id}/experiences",
        json={"category": "visit", "due_on": local_today().isoformat()},
    )
    assert response.status_code == 404
    filtered = alice.get(
        "/api/v1/experiences",
        query_string={"status": "done", "due_from": local_today().isoformat()},
    )
    assert filtered.get_json()["items"] == []


def test_quadrant_events_are_read_only_and_scoped(world, develop, api_as):
    tiering.place(world.carol_customer, MoveCause.IMPORT, None, first=True)
    db.session.commit()
    alice = api_as(world.alice)
    body = alice.get("/api/v1/quadrant-events").get_json()
    assert [e["customer_id"] for e in body["items"]] == [develop.id]
    event = body["items"][0]
    assert event["to_quadrant"] == "develop" and event["capability_threshold"] == "1000000.00"
    assert alice.get(f"/api/v1/quadrant-events/{event['id']}").status_code == 200
    carols = db.session.scalar(
        sa.select(QuadrantEvent.id).where(QuadrantEvent.customer_id == world.carol_customer.id)
    )
    assert alice.get(f"/api/v1/quadrant-events/{carols}").status_code == 404
    since = alice.get(
        "/api/v1/quadrant-events", query_string={"since": "2099-01-01T00:00:00+08:00"}
    )
    assert since.get_json()["items"] == []
    refused = alice.post("/api/v1/quadrant-events", json={})
    assert refused.status_code == 405 and refused.is_json


def test_quadrant_event_pages_walk_every_move_once(world, api_as):
    customers = db.session.scalars(sa.select(Customer).order_by(Customer.id)).all()
    for willingness in (70, 20, 65):
        for customer in customers:
            customer.willingness = willingness
            tiering.place(customer, MoveCause.REASSESSMENT, None)
        db.session.commit()
    admin = api_as(world.admin)
    seen, cursor = [], None
    while True:
        query = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        body = admin.get("/api/v1/quadrant-events", query_string=query).get_json()
        seen += [e["id"] for e in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(db.session.scalars(sa.select(QuadrantEvent.id)))
    assert len(seen) == len(set(seen)) >= 6
