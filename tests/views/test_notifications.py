"""Notifications as staff meet them: the digest on the notifications page, the unread count
in the navigation, and where their own reminders go."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import AuditLog, Experience, Notification, Staff
from crm.models.enums import ExperienceStatus, PlanOrigin, Touchpoint
from crm.services.outreach.digest import send_morning_digest

# Pages, forms and messages over domain code that tests/services runs on both databases;
# nothing here depends on the dialect, so SQLite is enough.
pytestmark = pytest.mark.backends("sqlite")

UNREAD = re.compile(r'data-testid="unread">(\d+)<')


def visit_today(customer) -> Experience:
    experience = Experience(
        customer=customer,
        category=Touchpoint.VISIT,
        status=ExperienceStatus.PLANNED,
        origin=PlanOrigin.STAFF,
        due_on=local_today(),
        planned_cost=Decimal("80.00"),
    )
    db.session.add(experience)
    db.session.commit()
    return experience


def unread_in_nav(page: str) -> int | None:
    found = UNREAD.search(page)
    return int(found.group(1)) if found else None


def test_a_visit_today_is_in_the_digest_and_on_the_notifications_page(world, auth):
    visit_today(world.alice_customer)
    assert send_morning_digest() == 1
    [digest] = db.session.scalars(sa.select(Notification)).all()
    assert digest.staff_id == world.alice.id and "张伟" in digest.body

    auth.login("alice")
    agenda = auth.client.get("/agenda").get_data(as_text=True)
    assert unread_in_nav(agenda) == 1
    page = auth.client.get("/notifications").get_data(as_text=True)
    assert "张伟" in page and "定期拜访" in page
    assert 'class="card unread"' in page and 'href="/agenda"' in page

    response = auth.client.post("/notifications/read", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "张伟" in page
    assert unread_in_nav(page) is None and 'class="card unread"' not in page
    db.session.expire_all()
    assert db.session.get(Notification, digest.id).read_at is not None


def test_nobody_marks_anothers_notification_read(world, auth):
    visit_today(world.alice_customer)
    send_morning_digest()
    digest = db.session.scalars(sa.select(Notification)).one()
    auth.login("carol")
    assert "张伟" not in auth.client.get("/notifications").get_data(as_text=True)
    assert auth.client.post("/notifications/read", data={"id": digest.id}).status_code == 404
    assert auth.client.post("/notifications/read", data={"id": "x"}).status_code == 404
    auth.client.post("/notifications/read")  # all of carol's own: none of alice's
    db.session.expire_all()
    assert db.session.get(Notification, digest.id).read_at is None

    auth.logout()
    auth.login("alice")
    assert auth.client.post("/notifications/read", data={"id": digest.id}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Notification, digest.id).read_at is not None


def test_notifications_need_a_login(client, world):
    assert client.get("/notifications").status_code == 302
    assert client.post("/notifications/read").status_code == 302
    assert client.get("/me/notifications").status_code == 302


def test_staff_set_their_own_phone_for_reminders(world, auth):
    auth.login("alice")
    assert "手机号码" in auth.client.get("/me/notifications").get_data(as_text=True)
    response = auth.client.post(
        "/me/notifications", data={"phone": "139 1234 5678", "notify_by_sms": "y"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    alice = db.session.get(Staff, world.alice.id)
    assert (alice.phone, alice.notify_by_sms, alice.email) == ("+8613912345678", True, None)
    audit = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.entity == "staff", AuditLog.field == "phone")
    ).one()
    assert (audit.entity_id, audit.actor_id, audit.new_value) == (
        world.alice.id,
        world.alice.id,
        "+8613912345678",
    )


def test_a_bad_phone_is_refused_and_nothing_is_written(world, auth):
    auth.login("alice")
    before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog))
    for data, message in (
        ({"phone": "12345", "notify_by_sms": "y"}, "phone number"),
        ({"phone": "010 6552 9988"}, "landline"),
        ({"notify_by_sms": "y"}, "Enter a mobile phone number"),
        ({"email": "not-an-address"}, "This is not an e-mail address."),
    ):
        response = auth.client.post(
            "/me/notifications", data=data, headers={"Accept-Language": "en"}
        )
        assert response.status_code == 200, data
        assert message in response.get_data(as_text=True), data
    db.session.expire_all()
    alice = db.session.get(Staff, world.alice.id)
    assert (alice.phone, alice.notify_by_sms, alice.email) == (None, False, None)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)) == before


def test_admin_sets_a_staff_members_phone_and_e_mail(world, auth):
    auth.login("admin")
    form = auth.client.get(f"/admin/staff/{world.bob.id}/edit").get_data(as_text=True)
    assert 'name="phone"' in form and 'name="notify_by_email"' in form
    data = {
        "username": "bob",
        "display_name": "Bob",
        "role": "staff",
        "branch_id": str(world.east.id),
        "is_active_account": "y",
        "phone": "+86 139-1234-0000",
        "email": "Bob@Bank.example",
        "notify_by_email": "y",
    }
    bad = auth.client.post(
        f"/admin/staff/{world.bob.id}/edit",
        data=data | {"phone": "999"},
        headers={"Accept-Language": "en"},
    )
    assert bad.status_code == 200 and "phone number" in bad.get_data(as_text=True)
    response = auth.client.post(f"/admin/staff/{world.bob.id}/edit", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    bob = db.session.get(Staff, world.bob.id)
    assert (bob.phone, bob.email, bob.notify_by_email, bob.notify_by_sms) == (
        "+8613912340000",
        "Bob@bank.example",
        True,
        False,
    )
    fields = set(
        db.session.scalars(
            sa.select(AuditLog.field).where(
                AuditLog.entity == "staff", AuditLog.entity_id == world.bob.id
            )
        )
    )
    assert {"phone", "email", "notify_by_email"} <= fields
    listing = auth.client.get("/admin/staff").get_data(as_text=True)
    assert "13912340000" not in listing
