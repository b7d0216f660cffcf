"""Every answer carries the security headers; pages and API answers are never stored."""

import pytest

from crm import create_app
from tests.support.factories import PASSWORD
from tests.views.test_access import MATRIX, ROLES

ALWAYS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def policy(response) -> dict[str, str]:
    directives = response.headers["Content-Security-Policy"].split(";")
    return dict(d.strip().partition(" ")[::2] for d in directives if d.strip())


def assert_secured(response, stored=False):
    where = f"{response.request.method} {response.request.path} ({response.status_code})"
    for header, value in ALWAYS.items():
        assert response.headers.get(header) == value, where
    csp = policy(response)
    assert csp["frame-ancestors"] == "'none'", where
    assert csp["script-src"] == "'self'" and csp["style-src"] == "'self'", where
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"], where
    assert "Strict-Transport-Security" not in response.headers, where  # not in production
    if not stored:
        assert response.headers["Cache-Control"] == "no-store", where


@pytest.mark.parametrize("role", ROLES)
def test_every_route_of_the_access_matrix_carries_the_headers(world, app, role):
    ids = {
        "alice_c": world.alice_customer.id,
        "bob_c": world.bob_customer.id,
        "carol_c": world.carol_customer.id,
        "alice": world.alice.id,
        "east": world.east.id,
    }
    client = app.test_client()
    if role:
        assert_secured(client.post("/login", data={"username": role, "password": PASSWORD}))
    for url, *_ in MATRIX:
        response = client.get(url.format(**ids))
        # The health check holds no personal data: a load balancer may cache it.
        assert_secured(response, stored=url == "/healthz")


def test_error_pages_log_in_and_out_carry_the_headers(world, app, auth):
    client = auth.client
    assert_secured(client.get("/login"))
    assert_secured(auth.login("alice", "wrong"))  # 401
    assert_secured(auth.login("alice"))
    assert_secured(client.get("/no/such/page"))  # 404
    assert_secured(client.get("/logout"))  # 405: POST only
    assert_secured(client.post(f"/customers/{world.bob_customer.id}/edit"))  # 404
    assert_secured(auth.logout())


def test_static_files_carry_the_headers_and_may_be_cached(app):
    response = app.test_client().get("/static/crm.css")
    assert response.status_code == 200
    assert_secured(response, stored=True)
    assert response.headers.get("Cache-Control") != "no-store"


def test_api_answers_are_never_stored(world, app, token_for):
    client = app.test_client()
    bearer = {"Authorization": f"Bearer {token_for(world.alice)}"}
    for response in (
        client.get("/api/v1/customers", headers=bearer),
        client.get(f"/api/v1/customers/{world.alice_customer.id}", headers=bearer),
        client.get(f"/api/v1/customers/{world.carol_customer.id}", headers=bearer),  # 404
        client.get("/api/v1/customers"),  # 401
    ):
        assert response.status_code in (200, 401, 404)
        assert_secured(response)


def test_hsts_only_in_production(monkeypatch, tmp_path):
    monkeypatch.setenv("CRM_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("CRM_DATABASE_URL", f"sqlite:///{tmp_path / 'crm.sqlite3'}")
    production = create_app("production").test_client()
    answer = production.get("/login", base_url="https://crm.example.cn")
    assert answer.status_code == 200
    assert answer.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert answer.headers["X-Frame-Options"] == "DENY"
    for name in ("development", "testing"):
        other = create_app(name, {"SQLALCHEMY_DATABASE_URI": "sqlite://"}).test_client()
        assert "Strict-Transport-Security" not in other.get("/login").headers
