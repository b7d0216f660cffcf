"""Admins manage staff and branches; every change is audited."""

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditLog, Branch, Staff

# Pages, forms and messages over domain code that tests/services runs on both databases;
# nothing here depends on the dialect, so SQLite is enough.
pytestmark = pytest.mark.backends("sqlite")


def test_admin_creates_staff_who_can_then_log_in(world, auth, app):
    auth.login("admin")
    response = auth.client.post(
        "/admin/staff/new",
        data={
            "username": "dave",
            "display_name": "刘大卫",
            "role": "staff",
            "branch_id": str(world.west.id),
            "language": "en",
            "password": "long-enough",
            "is_active_account": "y",
        },
    )
    assert response.status_code == 302
    other = app.test_client()
    assert (
        other.post("/login", data={"username": "dave", "password": "long-enough"}).status_code
        == 302
    )
    # Dave's language preference wins over the browser's.
    page = other.get("/customers", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "New dossier" in page


def test_staff_form_refuses_bad_input_and_writes_nothing(world, auth):
    auth.login("admin")
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Staff))
    for bad in (
        {"username": "alice"},  # taken
        {"password": "short"},
        {"branch_id": ""},  # staff need a branch
        {"username": "has space"},
    ):
        data = {
            "username": "erin",
            "role": "staff",
            "branch_id": str(world.east.id),
            "password": "long-enough",
        } | bad
        response = auth.client.post(
            "/admin/staff/new", data=data, headers={"Accept-Language": "en"}
        )
        assert response.status_code == 200, bad
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Staff)) == before


def test_deactivated_staff_cannot_log_in(world, auth, app):
    auth.login("admin")
    response = auth.client.post(
        f"/admin/staff/{world.bob.id}/edit",
        data={"username": "bob", "role": "staff", "branch_id": str(world.east.id)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    bob = app.test_client()
    assert (
        bob.post("/login", data={"username": "bob", "password": "correct-horse"}).status_code == 401
    )
    db.session.expire_all()
    row = db.session.scalar(
        sa.select(AuditLog).where(AuditLog.entity == "staff", AuditLog.field == "is_active_account")
    )
    assert (row.old_value, row.new_value, row.actor_id) == ("true", "false", world.admin.id)


def test_branches_are_created_and_renamed(world, auth):
    auth.login("admin")
    assert (
        auth.client.post(
            "/admin/branches/new", data={"name": "开发区支行", "stage": "startup"}
        ).status_code
        == 302
    )
    duplicate = auth.client.post(
        "/admin/branches/new",
        data={"name": "城东支行", "stage": "startup"},
        headers={"Accept-Language": "en"},
    )
    assert "A branch of this name exists" in duplicate.get_data(as_text=True)
    assert (
        auth.client.post(
            f"/admin/branches/{world.west.id}/edit", data={"name": "城西支行", "stage": "decline"}
        ).status_code
        == 302
    )
    db.session.expire_all()
    assert db.session.get(Branch, world.west.id).stage == "decline"


def test_admin_cannot_demote_or_deactivate_themselves(world, auth):
    auth.login("admin")
    response = auth.client.post(
        f"/admin/staff/{world.admin.id}/edit",
        data={
            "username": "admin",
            "role": "staff",
            "branch_id": str(world.east.id),
            "is_active_account": "y",
        },
        headers={"Accept-Language": "en"},
    )
    assert "cannot remove your own administrator rights" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Staff, world.admin.id).role == "admin"
