"""The group event pages as staff use them."""

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import AuditLog, Experience, GroupEvent
from crm.models.enums import ExperienceStatus, MoveCause, Touchpoint
from crm.services.customers import tiering
from crm.services.experiences import events, invitations
from tests.support.factories import make_customer

# Pages, forms and messages over domain code that tests/services runs on both databases;
# nothing here depends on the dialect, so SQLite is enough.
pytestmark = pytest.mark.backends("sqlite")

EN = {"Accept-Language": "en"}


def count(model):
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def form(**overrides):
    values = {
        "category": "event",
        "title": "理财讲座",
        "held_on": (local_today() + timedelta(days=14)).isoformat(),
        "place": "城东支行二楼",
        "capacity": "10",
        "total_cost": "1000.00",
    }
    values.update(overrides)
    return values


def upcoming(world, organiser=None, **fields):
    values = {
        "category": "event",
        "title": "产品说明会",
        "held_on": local_today() + timedelta(days=7),
        "place": "城东支行",
        "capacity": "10",
        "total_cost": "1000.00",
        **fields,
    }
    event = events.create_event(organiser or world.manager, values)
    db.session.commit()
    return event


def held(world, days_ago=1, **fields):
    """An event already held, with the given customers invited a week before it."""
    guests = fields.pop("guests", ())
    event = GroupEvent(
        category=Touchpoint.EVENT,
        title="客户联谊会",
        held_on=local_today() - timedelta(days=days_ago),
        place="城东支行",
        capacity=10,
        total_cost=fields.pop("total_cost", Decimal("1000.00")),
        branch=world.east,
        organiser_id=world.manager.id,
        **fields,
    )
    db.session.add(event)
    db.session.commit()
    for customer in guests:
        invitations.invite(world.manager, event, customer, today=event.held_on - timedelta(days=7))
    db.session.commit()
    return event


def page(auth, url, **kw):
    response = auth.client.get(url, **kw)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


@pytest.mark.parametrize("headers", [{}, EN], ids=["zh", "en"])
def test_pages_render_in_both_languages(world, auth, headers):
    future = upcoming(world)
    invitations.invite(world.alice, future, world.alice_customer)
    past = held(world, guests=[world.alice_customer])
    db.session.commit()
    auth.login("manager")
    listing = page(auth, "/events", headers=headers)
    assert future.title in listing and past.title in listing
    assert "/events/new" in listing
    page(auth, "/events/new", headers=headers)
    detail = page(auth, f"/events/{future.id}", headers=headers)
    assert world.alice_customer.name in detail
    assert f"/customers/{world.alice_customer.id}" in detail
    assert "q-develop" in detail
    assert "13800001111" not in detail
    attendance = page(auth, f"/events/{past.id}", headers=headers)
    assert 'name="attended"' in attendance
    if headers:
        assert "Invite a customer" in detail and "Record attendance" in attendance
    else:
        assert 'lang="zh-CN"' in detail


def test_create_an_event(world, auth):
    auth.login("alice")
    response = auth.client.post("/events/new", data=form())
    assert response.status_code == 302
    event = db.session.scalar(sa.select(GroupEvent))
    assert response.headers["Location"].endswith(f"/events/{event.id}")
    assert event.branch_id == world.east.id and event.organiser_id == world.alice.id
    assert event.total_cost == Decimal("1000.00")


@pytest.mark.parametrize("total_cost", ["-100", "一千", "1e3x", ""])
def test_a_bad_total_cost_is_refused_and_writes_nothing(world, auth, total_cost):
    auth.login("manager")
    before = (count(GroupEvent), count(AuditLog))
    response = auth.client.post("/events/new", data=form(total_cost=total_cost), headers=EN)
    assert response.status_code == 200
    assert 'class="error"' in response.get_data(as_text=True)
    assert (count(GroupEvent), count(AuditLog)) == before


def test_an_admin_chooses_the_branch(world, auth):
    auth.login("admin")
    assert "城西支行" in page(auth, "/events/new")
    response = auth.client.post("/events/new", data=form(branch_id=str(world.west.id)))
    assert response.status_code == 302
    assert db.session.scalar(sa.select(GroupEvent.branch_id)) == world.west.id


def test_invite_by_customer_number(world, auth):
    event = upcoming(world)
    auth.login("alice")
    response = auth.client.post(
        f"/events/{event.id}/invite", data={"customer_id": str(world.alice_customer.id)}
    )
    assert response.status_code == 302
    invitation = db.session.scalar(sa.select(Experience))
    assert invitation.group_event_id == event.id
    assert invitation.customer_id == world.alice_customer.id
    assert invitation.planned_cost == Decimal("100.00")
    detail = page(auth, f"/events/{event.id}", headers=EN)
    assert "1 of 10 places taken, 9 left" in detail
    assert f"/events/{event.id}/invitations/{invitation.id}/cancel" in detail


def test_inviting_past_capacity_is_refused_and_writes_nothing(world, auth):
    event = upcoming(world, capacity="1", total_cost="100.00")
    invitations.invite(world.manager, event, world.bob_customer)
    db.session.commit()
    auth.login("alice")
    before = (count(Experience), count(AuditLog))
    response = auth.client.post(
        f"/events/{event.id}/invite",
        data={"customer_id": str(world.alice_customer.id)},
        headers=EN,
    )
    assert response.status_code == 200
    assert "The event is full (1 places)." in response.get_data(as_text=True)
    assert (count(Experience), count(AuditLog)) == before


def test_a_pamper_customer_is_not_invited_to_a_general_event(world, auth):
    customer = make_customer(
        world.alice, "钱多多", "+8613700009999", liquid_assets=Decimal("1000000.00"), willingness=60
    )
    db.session.flush()
    tiering.place(customer, MoveCause.DOSSIER_EDIT, None, first=True)
    db.session.commit()
    event = upcoming(world)
    auth.login("alice")
    before = count(Experience)
    response = auth.client.post(
        f"/events/{event.id}/invite", data={"customer_id": str(customer.id)}, headers=EN
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "does not offer this to Pamper customers" in text
    assert count(Experience) == before


def test_someone_elses_customer_cannot_be_invited(world, auth):
    event = upcoming(world)
    auth.login("alice")
    response = auth.client.post(
        f"/events/{event.id}/invite", data={"customer_id": str(world.bob_customer.id)}
    )
    assert response.status_code == 200
    assert count(Experience) == 0


def test_cancel_an_invitation(world, auth):
    event = upcoming(world)
    invitation = invitations.invite(world.alice, event, world.alice_customer)
    db.session.commit()
    auth.login("alice")
    url = f"/events/{event.id}/invitations/{invitation.id}/cancel"
    assert auth.client.post(url).status_code == 302
    db.session.expire_all()
    assert db.session.get(Experience, invitation.id).status == ExperienceStatus.CANCELLED
    auth.logout()
    auth.login("bob")  # same branch, not his customer: the invitation does not exist for him
    assert auth.client.post(url).status_code == 404


def test_another_branchs_event_answers_404(world, auth):
    event = upcoming(world)
    invitation = invitations.invite(world.alice, event, world.alice_customer)
    db.session.commit()
    auth.login("carol")
    assert auth.client.get(f"/events/{event.id}").status_code == 404
    assert auth.client.get("/events/424242").status_code == 404
    posts = [
        (f"/events/{event.id}/invite", {"customer_id": str(world.carol_customer.id)}),
        (f"/events/{event.id}/invitations/{invitation.id}/cancel", {}),
        (f"/events/{event.id}/attendance", {"version": "1"}),
    ]
    for url, data in posts:
        assert auth.client.post(url, data=data).status_code == 404, url
    assert event.title not in page(auth, "/events")
    assert count(Experience) == 1


def test_record_attendance_then_each_response(world, auth):
    extra = make_customer(world.alice, "赵六", "+8613700005555")
    db.session.commit()
    guests = [world.alice_customer, world.bob_customer, extra]
    event = held(world, guests=guests, total_cost=Decimal("1000.00"))
    auth.login("manager")
    response = auth.client.post(
        f"/events/{event.id}/attendance",
        data={"version": str(event.version), "attended": [str(c.id) for c in guests[:2]]},
    )
    assert response.status_code == 302
    db.session.expire_all()
    invited = db.session.scalars(sa.select(Experience).order_by(Experience.id)).all()
    assert [i.actual_cost for i in invited] == [
        Decimal("500.00"),
        Decimal("500.00"),
        Decimal("0.00"),
    ]
    assert invited[2].status == ExperienceStatus.NO_SHOW
    detail = page(auth, f"/events/{event.id}", headers=EN)
    for invitation in invited:
        assert f"/experiences/{invitation.id}/record" in detail
    assert 'name="attended"' not in detail  # recorded once; the form is gone

    again = auth.client.post(
        f"/events/{event.id}/attendance",
        data={"version": str(db.session.get(GroupEvent, event.id).version), "attended": []},
        headers=EN,
    )
    assert "already been recorded" in again.get_data(as_text=True)


def test_attendance_waits_for_the_event_date(world, auth):
    event = upcoming(world)
    invitations.invite(world.alice, event, world.alice_customer)
    db.session.commit()
    auth.login("manager")
    detail = page(auth, f"/events/{event.id}", headers=EN)
    assert 'name="attended"' not in detail
    response = auth.client.post(
        f"/events/{event.id}/attendance",
        data={"version": str(event.version), "attended": [str(world.alice_customer.id)]},
        headers=EN,
    )
    assert "from the event date" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(Experience.status)) == ExperienceStatus.PLANNED
