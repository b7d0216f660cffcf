"""Event pages: types and the tiers they suit, finding guests by name, inviting a list in one
step, and the confirmations (outside the tiers, cancelling an invitation)."""

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import AuditLog, Experience, GroupEvent
from crm.models.enums import EventType, ExperienceStatus, MoveCause
from crm.services.customers import tiering
from crm.services.experiences import event_types, events, invitations
from tests.support.factories import make_customer

EN = {"Accept-Language": "en"}


def written():
    db.session.expire_all()
    return tuple(
        db.session.scalar(sa.select(sa.func.count()).select_from(m))
        for m in (GroupEvent, Experience, AuditLog)
    )


def upcoming(world, **fields):
    values = {
        "category": "premium_event",
        "event_type": "salon",
        "title": "私享会",
        "held_on": local_today() + timedelta(days=7),
        "place": "城东支行",
        "capacity": "10",
        "total_cost": "1000.00",
        **fields,
    }
    event = events.create_event(world.manager, values)
    db.session.commit()
    return event


@pytest.fixture
def pampered(world):
    """Alice's pampered customers: ¥1,200,000 (second tier) and ¥6,000,000 (third)."""
    customers = []
    for name, phone, assets in (
        ("钱一", "+8613700000001", "1200000.00"),
        ("钱二", "+8613700000002", "6000000.00"),
    ):
        customer = make_customer(
            world.alice, name, phone, liquid_assets=Decimal(assets), willingness=80
        )
        db.session.flush()
        tiering.place(customer, MoveCause.DOSSIER_EDIT, None, first=True)
        customers.append(customer)
    db.session.commit()
    return customers


def text(response):
    return response.get_data(as_text=True)


def test_an_event_is_created_with_its_type_and_shows_the_tiers_it_suits(world, auth):
    auth.login("alice")
    data = {
        "category": "premium_event",
        "event_type": "private_board",
        "title": "私董会",
        "held_on": (local_today() + timedelta(days=14)).isoformat(),
        "place": "城东支行",
        "capacity": "8",
        "total_cost": "8000.00",
    }
    response = auth.client.post("/events/new", data=data)
    assert response.status_code == 302
    event = db.session.scalar(sa.select(GroupEvent))
    assert event.event_type == EventType.PRIVATE_BOARD
    page = text(auth.client.get(f"/events/{event.id}", headers=EN))
    assert "Private board" in page and "suits ¥5,000,000 and more" in page
    chinese = text(auth.client.get(f"/events/{event.id}"))
    assert "私董会" in chinese and "适合" in chinese


def test_an_unknown_type_is_refused_with_a_message_and_nothing_written(world, auth):
    auth.login("alice")
    before = written()
    response = auth.client.post(
        "/events/new",
        data={
            "category": "event",
            "event_type": "gala",
            "title": "晚宴",
            "held_on": (local_today() + timedelta(days=14)).isoformat(),
            "place": "城东支行",
            "capacity": "8",
            "total_cost": "800.00",
        },
        headers=EN,
    )
    assert response.status_code == 200
    assert "Choose one of the listed values." in text(response)
    assert written() == before


def test_customers_are_found_by_name_and_invited_from_the_results(world, auth, pampered):
    event = upcoming(world)
    bobs = make_customer(world.bob, "钱三", "+8613700000003")
    db.session.commit()
    auth.login("alice")
    page = text(auth.client.get(f"/events/{event.id}?find=qian", headers=EN))
    assert "钱一" in page and "钱二" in page
    assert "钱三" not in page  # Bob's customer
    assert "13700000001" not in page and "0001" in page  # phones masked
    response = auth.client.post(f"/events/{event.id}/invite", data={"customer_id": pampered[0].id})
    assert response.status_code == 302
    page = text(auth.client.get(f"/events/{event.id}?find=钱一", headers=EN))
    assert "invited" in page
    assert bobs.id not in {e.customer_id for e in invitations.guests(event)}
    nobody = text(auth.client.get(f"/events/{event.id}?find=zzz", headers=EN))
    assert "No customer of yours matches" in nobody


def test_an_invitation_outside_the_tiers_asks_first_and_writes_nothing(world, auth, pampered):
    event = upcoming(world, event_type="private_board")
    auth.login("alice")
    before = written()
    response = auth.client.post(
        f"/events/{event.id}/invite", data={"customer_id": pampered[0].id}, headers=EN
    )
    assert response.status_code == 200
    page = text(response)
    assert "does not suit their asset tier" in page and "Invite anyway" in page
    assert written() == before
    response = auth.client.post(
        f"/events/{event.id}/invite",
        data={"customer_id": pampered[0].id, "outside_tiers_confirmed": "yes"},
    )
    assert response.status_code == 302
    assert invitations.seats_taken(event) == 1


def test_a_list_is_previewed_then_invited_in_one_step(world, auth, pampered):
    event = upcoming(world)
    auth.login("alice")
    before = written()
    preview = text(auth.client.get(f"/events/{event.id}/guest-list?quadrant=pamper", headers=EN))
    assert "Matching: 2 · can be invited: 2 · places left: 10" in preview
    assert "Invite 2 customers" in preview
    assert written() == before
    response = auth.client.post(f"/events/{event.id}/guest-list", data={"quadrant": "pamper"})
    assert response.status_code == 200
    assert invitations.seats_taken(event) == 2


def test_a_list_shows_those_refused_and_why(world, auth, pampered):
    event = upcoming(world, category="event")  # the matrix never offers it to pampered ones
    auth.login("alice")
    page = text(auth.client.get(f"/events/{event.id}/guest-list?quadrant=pamper", headers=EN))
    assert "Not invited" in page and "experience matrix does not offer this" in page
    assert "Invite 0" not in page


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("quadrant=&tag=&tier=", "Choose a quadrant, a tag or an asset tier."),
        ("quadrant=rich", "Choose one of the listed values."),
        ("tier=9", "Choose one of the listed values."),
    ],
)
def test_a_bad_choice_is_refused_with_a_message(world, auth, pampered, query, says):
    event = upcoming(world)
    auth.login("alice")
    before = written()
    page = text(auth.client.get(f"/events/{event.id}/guest-list?{query}", headers=EN))
    assert says in page
    response = auth.client.post(
        f"/events/{event.id}/guest-list",
        data=dict(p.split("=") for p in query.split("&")),
        headers=EN,
    )
    assert response.status_code == 200 and says in text(response)
    assert written() == before


def test_a_list_over_capacity_is_refused_whole(world, auth, pampered):
    event = upcoming(world, capacity="1", total_cost="100.00")
    auth.login("alice")
    before = written()
    response = auth.client.post(
        f"/events/{event.id}/guest-list", data={"quadrant": "pamper"}, headers=EN
    )
    assert "2 of the chosen customers can be invited, but only 1 place is left" in text(response)
    assert written() == before


def test_a_list_outside_the_tiers_is_invited_once_confirmed(world, auth, pampered):
    event = upcoming(world, event_type="private_board")
    auth.login("alice")
    preview = text(auth.client.get(f"/events/{event.id}/guest-list?quadrant=pamper", headers=EN))
    assert "these customers are outside it" in preview and "outside the suited tiers" in preview
    before = written()
    response = auth.client.post(
        f"/events/{event.id}/guest-list", data={"quadrant": "pamper"}, headers=EN
    )
    assert "Confirm to invite them anyway" in text(response)
    assert written() == before
    auth.client.post(
        f"/events/{event.id}/guest-list",
        data={"quadrant": "pamper", "outside_tiers_confirmed": "yes"},
    )
    assert invitations.seats_taken(event) == 2


def test_cancelling_an_invitation_asks_first(world, auth, pampered):
    event = upcoming(world)
    invitation = invitations.invite(world.alice, event, pampered[1])
    db.session.commit()
    auth.login("alice")
    url = f"/events/{event.id}/invitations/{invitation.id}/cancel"
    assert url in text(auth.client.get(f"/events/{event.id}"))
    before = written()
    question = text(auth.client.get(url, headers=EN))
    assert "Cancel the invitation of 钱二" in question and "No, keep it" in question
    assert written() == before
    response = auth.client.post(url)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Experience, invitation.id).status == ExperienceStatus.CANCELLED


def test_admins_set_the_tiers_each_type_suits(world, auth):
    auth.login("alice")
    assert auth.client.get("/admin/event-types").status_code == 404
    auth.logout()
    auth.login("admin")
    page = text(auth.client.get("/admin/event-types", headers=EN))
    assert "Private board" in page and "Wealth-inheritance lecture" in page
    seen = event_types.fingerprint()
    chosen = {t.value: ["1", "2", "3"] for t in EventType}
    chosen["private_board"] = ["2", "3"]
    response = auth.client.post("/admin/event-types", data={**chosen, "seen": seen})
    assert response.status_code == 302
    assert event_types.suited_tiers()[EventType.PRIVATE_BOARD] == {2, 3}
    chosen["salon"] = []
    before = written()
    response = auth.client.post(
        "/admin/event-types", data={**chosen, "seen": event_types.fingerprint()}, headers=EN
    )
    assert response.status_code == 200 and "Choose at least one tier." in text(response)
    assert written() == before
