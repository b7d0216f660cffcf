"""Prospects over the API: the pages' rules, scope, audit and locking, in JSON."""

from __future__ import annotations

import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditLog, Prospect
from crm.models.enums import ProspectStatus

PROSPECTS = "/api/v1/prospects"
NEW = {"name": "孙悦", "phone": "137 1234 5678", "channel": "event", "notes": "讲座后留的"}


def prospect_count() -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(Prospect))


def created(api) -> dict:
    response = api.post(PROSPECTS, json=NEW)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_create_read_and_list_within_ones_scope(world, api_as):
    alice = api_as(world.alice)
    body = created(alice)
    assert body["phone"] == "137****5678" and body["status"] == "new"
    assert body["owner_id"] == world.alice.id and body["branch_id"] == world.east.id
    item = f"{PROSPECTS}/{body['id']}"
    read = alice.get(item)
    assert read.status_code == 200 and read.headers["ETag"] == '"1"'
    assert [p["name"] for p in alice.get(PROSPECTS).get_json()["items"]] == ["孙悦"]
    assert [p["name"] for p in api_as(world.manager).get(PROSPECTS).get_json()["items"]] == ["孙悦"]
    for other in (world.bob, world.carol):
        client = api_as(other)
        assert client.get(PROSPECTS).get_json()["items"] == []
        assert client.get(item).status_code == 404
        refused = client.patch(item, json={"notes": "x", "version": 1})
        assert refused.status_code == 404
    assert db.session.get(Prospect, body["id"]).notes == "讲座后留的"


def test_duplicates_and_a_missing_phone_are_refused_with_nothing_written(world, api_as):
    alice, bob = api_as(world.alice), api_as(world.bob)
    first = created(alice)
    audit_rows = db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog))
    again = bob.post(PROSPECTS, json=NEW | {"name": "孙月"})
    assert again.status_code == 422
    assert again.get_json()["errors"]["phone"] == (
        f"Prospect #{first['id']} already has this phone number."
    )
    customer = alice.post(PROSPECTS, json=NEW | {"phone": "13800001111"})
    assert (
        customer.status_code == 422
        and "Customer dossier #" in customer.get_json()["errors"]["phone"]
    )
    missing = alice.post(PROSPECTS, json={"name": "无号", "channel": "event"})
    assert missing.status_code == 422 and "phone" in missing.get_json()["errors"]
    assert prospect_count() == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)) == audit_rows


def test_updates_and_moves_name_their_version(world, api_as):
    alice = api_as(world.alice)
    item = f"{PROSPECTS}/{created(alice)['id']}"
    assert alice.patch(item, json={"notes": "改"}).status_code == 428
    moved = alice.patch(item, json={"status": "contacted", "version": 1})
    assert moved.status_code == 200 and moved.get_json()["status"] == "contacted"
    stale = alice.patch(item, json={"notes": "晚了", "version": 1})
    assert stale.status_code == 409
    assert stale.get_json()["current_version"] == 2
    assert "prospect_status" in stale.get_json()["changed_fields"]
    skipped = alice.patch(item, json={"status": "new", "version": 2})
    assert skipped.status_code == 422
    no_reason = alice.patch(item, json={"status": "discarded", "version": 2})
    assert no_reason.status_code == 422 and "discard_reason" in no_reason.get_json()["errors"]
    edited = alice.patch(
        item,
        json={"notes": "再联系", "status": "discarded", "discard_reason": "无意向"},
        headers={"If-Match": '"2"'},
    )
    assert edited.status_code == 200, edited.get_json()
    body = edited.get_json()
    assert (body["notes"], body["status"], body["discard_reason"]) == (
        "再联系",
        "discarded",
        "无意向",
    )
    assert edited.headers["ETag"] == f'"{body["version"]}"'
    assert db.session.get(Prospect, body["id"]).status == ProspectStatus.DISCARDED
    converted = alice.patch(item, json={"status": "converted", "version": body["version"]})
    assert converted.status_code == 422
