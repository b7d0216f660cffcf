"""What a form page says about its record, in the domain's words: someone else saved first
(every edit form alike: the page's message, what to do, the versions brought up to date so
that saving again works), a record already made once, and the seats an event has left."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import Customer, Experience, GroupEvent
from crm.services.customers import willingness
from crm.services.experiences import events, invitations, plans, recording
from crm.services.followup import complaints
from tests.support.pages import EN

pytestmark = pytest.mark.backends("sqlite")

AGAIN = "Check the current values and save again."


def field_value(page: str, name: str) -> str:
    return re.search(rf'name="{name}"[^>]*value="([^"]*)"', page)[1]


ALERT = re.compile(r'class="flash error" role="alert">([^<]*)<')


def alert(page: str) -> list[str]:
    return [html.unescape(m) for m in ALERT.findall(page)]


def bump(customer: Customer) -> None:
    """Someone else (the owner, elsewhere) re-assesses the customer meanwhile."""
    willingness.reassess_willingness(
        customer.owner, customer, customer.willingness + 1, "电话回访", customer.version
    )
    db.session.commit()


def test_a_stale_reassessment_keeps_its_own_words(world, auth):
    customer = world.alice_customer
    begun_on = customer.version
    bump(customer)
    auth.login("alice")
    response = auth.client.post(
        f"/customers/{customer.id}/willingness",
        data={"willingness": "70", "reason": "见面详谈", "version": str(begun_on)},
        headers=EN,
    )
    page = response.get_data(as_text=True)
    assert alert(page) == [
        "Someone else saved this dossier while you were editing it. "
        "Check the current values and re-assess again."
    ]
    db.session.expire_all()
    assert field_value(page, "version") == str(db.session.get(Customer, customer.id).version)


@pytest.fixture
def visit(world):
    customer = world.alice_customer
    customer.created_at = customer.created_at - timedelta(days=30)
    experience = plans.add_experience(
        world.alice, customer, {"category": "visit", "due_on": local_today()}
    )
    db.session.commit()
    return experience


def record_data(experience: Experience, **versions) -> dict:
    return {
        "outcome": "done",
        "held_on": local_today().isoformat(),
        "response": "positive",
        "willingness": "",
        "version": str(versions.get("version", experience.version)),
        "customer_version": str(versions.get("customer_version", experience.customer.version)),
    }


def test_a_stale_record_says_so_and_saves_on_the_second_try(world, auth, visit):
    data = record_data(visit)
    bump(visit.customer)
    auth.login("alice")
    url = f"/experiences/{visit.id}/record"
    page = auth.client.post(url, data=data, headers=EN).get_data(as_text=True)
    assert alert(page) == [
        "Someone else changed this customer or experience while you were recording. " + AGAIN
    ]
    again = {
        **data,
        "version": field_value(page, "version"),
        "customer_version": field_value(page, "customer_version"),
    }
    assert auth.client.post(url, data=again).status_code == 302
    db.session.expire_all()
    assert db.session.get(Experience, visit.id).recorded_at is not None


def test_a_recorded_experience_says_so_once(world, auth, visit):
    data = {**record_data(visit), "held_on": local_today()}
    recording.record_experience(world.alice, visit, data, visit.version, visit.customer.version)
    db.session.commit()
    auth.login("alice")
    page = auth.client.get(f"/experiences/{visit.id}/record", headers=EN).get_data(as_text=True)
    assert recording.already_recorded(visit)
    assert alert(page) == ["This experience has already been recorded."]


def opened(world):
    complaint = complaints.open_complaint(
        world.alice,
        world.alice_customer,
        {"point": "态度差", "opened_at": datetime.now(UTC) - timedelta(hours=1)},
    )
    db.session.commit()
    return complaint


ANSWER = {"handling_opinion": "已致歉", "non_routine_surrender": "no", "satisfied": "yes"}


def test_a_stale_answer_is_refused_with_409_and_the_current_version(world, auth):
    complaint = opened(world)
    auth.login("alice")
    url = f"/complaints/{complaint.id}/answer"
    response = auth.client.post(
        url, data={**ANSWER, "version": str(complaint.version + 3)}, headers=EN
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert alert(page) == [
        "Someone else answered or changed this complaint while you were writing. " + AGAIN
    ]
    again = auth.client.post(url, data={**ANSWER, "version": field_value(page, "version")})
    assert again.status_code == 302
    db.session.expire_all()
    assert complaints.already_answered(db.session.get(type(complaint), complaint.id))
    page = auth.client.get(url, headers=EN).get_data(as_text=True)
    assert alert(page) == ["This complaint has already been answered."]


def test_the_seats_an_event_shows_are_the_seats_the_domain_counts(world, auth):
    event = events.create_event(
        world.manager,
        {
            "category": "event",
            "title": "产品说明会",
            "held_on": local_today() + timedelta(days=7),
            "place": "城东支行",
            "capacity": "2",
            "total_cost": "100.00",
        },
    )
    first = invitations.invite(world.manager, event, world.alice_customer)
    invitations.invite(world.manager, event, world.bob_customer)
    invitations.cancel_invitation(world.manager, event, first)
    db.session.commit()

    guests = invitations.guests(event)
    assert invitations.seats_taken(event) == invitations.seats_taken(event, guests) == 1
    assert events.events_for(world.manager).taken == {event.id: 1}
    auth.login("manager")
    detail = auth.client.get(f"/events/{event.id}", headers=EN).get_data(as_text=True)
    assert "1 of 2 places taken, 1 left" in detail
    listing = auth.client.get("/events", headers=EN).get_data(as_text=True)
    assert "1 / 2" in listing

    # The cancelled seat is free again: one more guest fills the event, and then it is full.
    invitations.invite(world.manager, event, world.alice_customer)
    db.session.commit()
    db.session.expire_all()
    event = db.session.get(GroupEvent, event.id)
    detail = auth.client.get(f"/events/{event.id}", headers=EN).get_data(as_text=True)
    assert "2 of 2 places taken, 0 left" in detail and "The event is full (2 places)." in detail
    assert invitations.seats_taken(event) == 2
