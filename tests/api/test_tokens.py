"""API tokens: issued by an admin and shown once, kept only as a hash, revocable, audited."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import sqlalchemy as sa

from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import ApiToken, AuditLog
from crm.services.accounts import api_tokens

CUSTOMERS = "/api/v1/customers"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}", "Accept-Language": "en"}


def stored(token_id: int) -> ApiToken:
    db.session.expire_all()
    return db.session.get(ApiToken, token_id)


def test_issue_keeps_only_the_hash_and_the_token_works(world, client):
    token, plaintext = api_tokens.issue(world.admin, world.alice, "reporting")
    db.session.commit()
    row = stored(token.id)
    assert row.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert plaintext.startswith(row.prefix) and len(plaintext) > len(row.prefix) + 30
    # Nothing stored holds the token itself.
    assert all(plaintext not in str(v) for v in vars(row).values())
    audit_values = db.session.scalars(sa.select(AuditLog.new_value)).all()
    assert all(plaintext not in (v or "") for v in audit_values)

    response = client.get(CUSTOMERS, headers=bearer(plaintext))
    assert response.status_code == 200
    assert [c["name"] for c in response.get_json()["items"]] == ["张伟"]


def test_issue_and_revoke_are_audited_with_who_did_it(world):
    token, _ = api_tokens.issue(world.admin, world.bob, "sync")
    api_tokens.revoke(world.admin, token)
    db.session.commit()
    rows = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.entity == "api_token").order_by(AuditLog.id)
    ).all()
    assert {(r.action, r.field, r.actor_id) for r in rows} >= {
        ("issue", "staff_id", world.admin.id),
        ("issue", "name", world.admin.id),
        ("revoke", "revoked_at", world.admin.id),
    }
    assert {r.entity_id for r in rows} == {token.id}


def test_revoked_token_is_refused_with_401_and_a_message(world, client):
    token, plaintext = api_tokens.issue(world.admin, world.alice, "reporting")
    db.session.commit()
    assert client.get(CUSTOMERS, headers=bearer(plaintext)).status_code == 200
    api_tokens.revoke(world.admin, stored(token.id))
    db.session.commit()
    response = client.get(CUSTOMERS, headers=bearer(plaintext))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "revoked" in response.get_json()["message"]
    # Writes are refused alike, and nothing is written.
    created = client.post(
        CUSTOMERS, json={"name": "赵磊", "phone": "13512345678"}, headers=bearer(plaintext)
    )
    assert created.status_code == 401


def test_missing_malformed_and_unknown_tokens_get_401(world, client):
    for headers in (
        {},
        {"Authorization": "Basic YWxpY2U6Y29ycmVjdC1ob3JzZQ=="},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer crm_not-a-token"},
        {"Authorization": "Bearer " + "x" * 5000},
    ):
        response = client.get(CUSTOMERS, headers=headers | {"Accept-Language": "en"})
        assert response.status_code == 401, headers
        assert response.is_json and response.get_json()["message"]


def test_a_browser_session_is_not_an_api_credential(world, auth):
    auth.login("alice")
    assert auth.client.get("/customers").status_code == 200
    assert auth.client.get(CUSTOMERS).status_code == 401


def test_deactivated_staff_token_stops_working(world, client):
    _, plaintext = api_tokens.issue(world.admin, world.alice, "reporting")
    db.session.commit()
    world.alice.is_active_account = False
    db.session.commit()
    assert client.get(CUSTOMERS, headers=bearer(plaintext)).status_code == 401


def test_last_used_moves_at_most_once_a_minute(world, client):
    token, plaintext = api_tokens.issue(world.admin, world.alice, "reporting")
    db.session.commit()
    assert stored(token.id).last_used_at is None
    client.get(CUSTOMERS, headers=bearer(plaintext))
    first = stored(token.id).last_used_at
    assert first is not None
    client.get(CUSTOMERS, headers=bearer(plaintext))
    assert stored(token.id).last_used_at == first
    row = stored(token.id)
    row.last_used_at = first - timedelta(minutes=2)
    db.session.commit()
    client.get(CUSTOMERS, headers=bearer(plaintext))
    assert stored(token.id).last_used_at > first - timedelta(minutes=2)


def test_only_admins_issue_and_names_are_checked(world):
    for who, name in ((world.manager, "sync"), (world.admin, ""), (world.admin, "x" * 81)):
        with pytest.raises(InvalidInput):
            api_tokens.issue(who, world.alice, name)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0


# --- the admin page -------------------------------------------------------------------


def test_admin_page_issues_a_token_shown_once(world, auth):
    auth.login("admin")
    response = auth.client.post(
        "/admin/api-tokens",
        data={"staff_id": str(world.alice.id), "name": "core banking sync"},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    token = db.session.scalar(sa.select(ApiToken))
    plaintext = page.split('<code class="token">')[1].split("</code>")[0]
    assert plaintext.startswith(token.prefix)
    assert api_tokens.token_hash(plaintext) == token.token_hash
    # The list shows the prefix and owner, never the token again.
    again = auth.client.get("/admin/api-tokens").get_data(as_text=True)
    assert token.prefix in again and "Alice" in again and plaintext not in again


def test_admin_page_refuses_a_missing_name_and_writes_nothing(world, auth):
    auth.login("admin")
    response = auth.client.post(
        "/admin/api-tokens",
        data={"staff_id": str(world.alice.id), "name": ""},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 200
    assert "Name the token" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0


def test_admin_page_revokes(world, auth, client):
    token, plaintext = api_tokens.issue(world.admin, world.alice, "reporting")
    db.session.commit()
    auth.login("admin")
    response = auth.client.post(f"/admin/api-tokens/{token.id}/revoke")
    assert response.status_code == 302
    assert stored(token.id).revoked_by_id == world.admin.id
    assert client.get(CUSTOMERS, headers=bearer(plaintext)).status_code == 401


def test_token_page_is_for_admins_only(world, auth):
    auth.login("manager")
    assert auth.client.get("/admin/api-tokens").status_code == 404
    response = auth.client.post(
        "/admin/api-tokens", data={"staff_id": str(world.manager.id), "name": "mine"}
    )
    assert response.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0


# --- the command line -----------------------------------------------------------------


def test_cli_issues_and_revokes(world, runner, client, monkeypatch):
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    result = runner.invoke(args=["crm", "api-token", "issue", "bob", "--name", "reporting"])
    assert result.exit_code == 0, result.output
    plaintext = result.stdout.strip().splitlines()[-1]
    assert client.get(CUSTOMERS, headers=bearer(plaintext)).status_code == 200
    token = db.session.scalar(sa.select(ApiToken))
    assert token.staff_id == world.bob.id and token.created_by_id is None

    result = runner.invoke(args=["crm", "api-token", "revoke", str(token.id)])
    assert result.exit_code == 0, result.output
    assert client.get(CUSTOMERS, headers=bearer(plaintext)).status_code == 401
    again = runner.invoke(args=["crm", "api-token", "revoke", str(token.id)])
    assert again.exit_code == 2 and "already revoked" in again.output


def test_cli_refuses_unknown_users(world, runner):
    result = runner.invoke(args=["crm", "api-token", "issue", "nobody", "--name", "x"])
    assert result.exit_code != 0 and "nobody" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0
