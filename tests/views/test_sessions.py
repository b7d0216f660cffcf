"""Signed-in sessions end: at log-out (every copy of the cookie with it), after 30 idle minutes,
12 hours after log-in, and when the password changes or the account is deactivated."""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import SessionEnd, StaffSession
from crm.services.accounts import sessions
from tests.support.factories import PASSWORD

EXPIRED_ZH = "您的登录已过期，请重新登录。"
EXPIRED_EN = "Your session has expired. Please log in again."


def signed_in(app, username, password=PASSWORD):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def cookie_of(client) -> str:
    return client.get_cookie("session").value


def with_cookie(app, value):
    client = app.test_client()
    client.set_cookie("session", value)
    return client


def assert_sent_to_login(response, next_path=None):
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    if next_path is not None:
        assert parse_qs(location.query)["next"] == [next_path]


@pytest.fixture
def clock(monkeypatch):
    """Move the sessions' clock: ``clock.move(minutes=31)`` from the moment of the fixture."""

    class Clock:
        now = datetime.now(UTC)

        def move(self, **delta):
            self.now += timedelta(**delta)

    moved = Clock()
    monkeypatch.setattr(sessions, "utcnow", lambda: moved.now)
    return moved


def session_rows(staff):
    db.session.expire_all()
    return db.session.scalars(
        sa.select(StaffSession).where(StaffSession.staff_id == staff.id)
    ).all()


def test_a_copied_cookie_is_refused_once_its_owner_logged_out(world, app):
    alice = signed_in(app, "alice")
    copied = cookie_of(alice)
    thief = with_cookie(app, copied)
    assert thief.get("/customers").status_code == 200  # the copy works while the session is open

    assert alice.post("/logout").status_code == 302
    assert_sent_to_login(alice.get("/customers"))
    replay = with_cookie(app, copied)
    assert_sent_to_login(replay.get("/customers"), "/customers")
    assert_sent_to_login(thief.get(f"/customers/{world.alice_customer.id}"))
    (row,) = session_rows(world.alice)
    assert row.end_reason == SessionEnd.LOGOUT and row.ended_at is not None


def test_the_cookie_names_a_random_session_not_the_staff_member(world, app):
    client = signed_in(app, "alice")
    data = app.session_interface.get_signing_serializer(app).loads(cookie_of(client))
    key = data["_user_id"]
    assert key != str(world.alice.id) and len(key) >= 40
    (row,) = session_rows(world.alice)
    assert row.key_hash == sessions.key_hash(key) != key  # only a hash is stored
    # Two log-ins of the same person are two sessions with keys of their own.
    other = signed_in(app, "alice")
    assert app.session_interface.get_signing_serializer(app).loads(cookie_of(other))[
        "_user_id"
    ] not in (key, str(world.alice.id))


def test_logging_out_on_one_device_keeps_the_other_signed_in(world, app):
    desk = signed_in(app, "alice")
    phone = signed_in(app, "alice")
    desk.post("/logout")
    assert_sent_to_login(desk.get("/customers"))
    assert phone.get("/customers").status_code == 200


def test_idle_session_ends_with_a_message_and_the_page_to_return_to(world, app, clock):
    client = signed_in(app, "alice")
    dossier = f"/customers/{world.alice_customer.id}"
    clock.move(minutes=29)
    assert client.get(dossier).status_code == 200
    clock.move(minutes=29)  # 29 idle minutes again: still within the limit
    assert client.get(dossier).status_code == 200
    clock.move(minutes=31)
    response = client.get(dossier)
    assert_sent_to_login(response, dossier)
    page = client.get(response.headers["Location"], headers={"Accept-Language": "zh-CN"})
    assert EXPIRED_ZH in page.get_data(as_text=True)
    (row,) = session_rows(world.alice)
    assert row.end_reason == SessionEnd.IDLE

    # Logging in again returns to the dossier.
    again = client.post(
        response.headers["Location"], data={"username": "alice", "password": PASSWORD}
    )
    assert again.headers["Location"] == dossier
    assert client.get(dossier).status_code == 200


def test_logging_out_of_a_lapsed_session_keeps_why_it_ended(world, app, clock):
    client = signed_in(app, "alice")
    clock.move(hours=2)
    assert client.post("/logout").status_code == 302
    (row,) = session_rows(world.alice)
    assert (row.end_reason, row.ended_at) == (
        SessionEnd.IDLE,
        row.last_seen_at + timedelta(minutes=30),
    )


def test_expired_message_follows_the_browser_language(world, app, clock):
    client = signed_in(app, "alice")
    clock.move(minutes=45)
    response = client.get("/customers", headers={"Accept-Language": "en"})
    page = client.get(response.headers["Location"], headers={"Accept-Language": "en"})
    assert EXPIRED_EN in page.get_data(as_text=True)
    # A visitor who never logged in is asked to log in, not told a session expired.
    stranger = app.test_client()
    login = stranger.get("/customers", headers={"Accept-Language": "en"}).headers["Location"]
    assert EXPIRED_EN not in stranger.get(login).get_data(as_text=True)


def test_a_session_ends_twelve_hours_after_log_in_however_busy(world, app, clock):
    client = signed_in(app, "alice")
    for _ in range(35):  # a request every 20 minutes: never idle
        clock.move(minutes=20)
        assert client.get("/customers").status_code == 200
    clock.move(minutes=21)  # 12 h 1 min after log-in
    assert_sent_to_login(client.get("/customers"), "/customers")
    (row,) = session_rows(world.alice)
    assert row.end_reason == SessionEnd.EXPIRED
    assert row.ended_at == row.started_at + timedelta(hours=12)


def test_limits_come_from_the_configuration(world, app_factory, clock):
    app = app_factory(CRM_SESSION_IDLE_MINUTES=5, CRM_SESSION_MAX_HOURS=1)
    client = signed_in(app, "alice")
    clock.move(minutes=6)
    assert_sent_to_login(client.get("/customers"))
    client = signed_in(app, "alice")
    for _ in range(14):
        clock.move(minutes=4)
        assert client.get("/customers").status_code == 200
    clock.move(minutes=4)
    assert_sent_to_login(client.get("/customers"))  # 60 min after log-in


def test_reading_pages_writes_the_last_seen_time_at_most_once_a_minute(world, app, clock):
    client = signed_in(app, "alice")
    (row,) = session_rows(world.alice)
    started = row.last_seen_at
    clock.move(seconds=50)
    client.get("/customers")
    assert session_rows(world.alice)[0].last_seen_at == started
    clock.move(seconds=20)
    client.get("/customers")
    assert session_rows(world.alice)[0].last_seen_at == clock.now


def staff_form(world, staff, **changes):
    data = {
        "username": staff.username,
        "display_name": staff.display_name,
        "role": staff.role.value,
        "branch_id": str(staff.branch_id or ""),
        "is_active_account": "y",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_a_new_password_ends_the_owners_other_sessions(world, app):
    alice_desk = signed_in(app, "alice")
    alice_phone = signed_in(app, "alice")
    bob = signed_in(app, "bob")
    admin = signed_in(app, "admin")
    response = admin.post(
        f"/admin/staff/{world.alice.id}/edit",
        data=staff_form(world, world.alice, password="a-new-secret"),
    )
    assert response.status_code == 302
    assert_sent_to_login(alice_desk.get("/customers"))
    assert_sent_to_login(alice_phone.get("/customers"))
    assert bob.get("/customers").status_code == 200
    assert admin.get("/admin/staff").status_code == 200
    assert {row.end_reason for row in session_rows(world.alice)} == {SessionEnd.PASSWORD}
    signed_in(app, "alice", "a-new-secret")


def test_changing_ones_own_password_keeps_this_session_only(world, app):
    here = signed_in(app, "admin")
    elsewhere = signed_in(app, "admin")
    response = here.post(
        f"/admin/staff/{world.admin.id}/edit",
        data=staff_form(world, world.admin, password="a-new-secret"),
    )
    assert response.status_code == 302
    assert here.get("/admin/staff").status_code == 200
    assert_sent_to_login(elsewhere.get("/admin/staff"))


def test_other_changes_to_an_account_leave_its_sessions_alone(world, app):
    alice = signed_in(app, "alice")
    admin = signed_in(app, "admin")
    admin.post(
        f"/admin/staff/{world.alice.id}/edit",
        data=staff_form(world, world.alice, display_name="爱丽丝"),
    )
    assert alice.get("/customers").status_code == 200


def test_deactivation_ends_every_session_of_the_account(world, app):
    bob = signed_in(app, "bob")
    copy = with_cookie(app, cookie_of(bob))
    admin = signed_in(app, "admin")
    response = admin.post(
        f"/admin/staff/{world.bob.id}/edit",
        data=staff_form(world, world.bob, is_active_account=None),
    )
    assert response.status_code == 302
    assert_sent_to_login(bob.get("/customers"))
    assert_sent_to_login(copy.get("/customers"))
    assert {row.end_reason for row in session_rows(world.bob)} == {SessionEnd.DEACTIVATED}


def test_a_forged_or_foreign_cookie_signs_nobody_in(world, app):
    client = signed_in(app, "alice")
    serializer = app.session_interface.get_signing_serializer(app)
    data = serializer.loads(cookie_of(client))
    # Even signed with the real key, a staff id or an invented key is no session.
    for forged in (str(world.admin.id), "x" * 43, "y" * 5000):
        forger = with_cookie(app, serializer.dumps({**data, "_user_id": forged}))
        assert_sent_to_login(forger.get("/customers"))
    # A cookie signed with another key is not read at all.
    assert_sent_to_login(with_cookie(app, cookie_of(client) + "x").get("/customers"))


def test_the_api_takes_tokens_not_session_cookies(world, app, token_for):
    token = token_for(world.alice)
    client = signed_in(app, "alice")
    assert client.get("/api/v1/customers").status_code == 401
    answer = client.get("/api/v1/customers", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    client.post("/logout")
    answer = app.test_client().get(
        "/api/v1/customers", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200
