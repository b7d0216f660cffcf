"""Inviting the customer list's selection to a group event (``guest_lists.invite_customers``):
each customer invited whole or refused with the reason in words, the others invited all the
same; more customers than places, or another writer at the same moment, refuse the whole
selection."""

from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import AuditLog, Experience, GroupEvent
from crm.models.enums import ExperienceStatus, MoveCause, Quadrant
from crm.services.customers import tiering
from crm.services.experiences import events, group_invitations, guest_lists, invitations
from tests.services.experiences.event_helpers import data, guests_of, held_event, written
from tests.support.factories import make_customer


def refusal(error) -> str:
    with force_locale("en"):
        return " ".join(str(m) for m in error.value.errors.values())


def seats(event) -> list[int]:
    db.session.expire_all()
    return sorted(
        db.session.scalars(
            sa.select(Experience.customer_id).where(
                Experience.group_event_id == event.id,
                Experience.status != ExperienceStatus.CANCELLED,
            )
        )
    )


def test_every_selected_customer_is_invited_and_audited(world):
    event = events.create_event(world.manager, data(capacity="5", total_cost="500.00"))
    db.session.commit()
    guests = guests_of(world, 3)
    outcome = guest_lists.invite_customers(world.manager, event, guests)
    db.session.commit()
    assert outcome.invited == guests and outcome.refused == []
    assert seats(event) == sorted(c.id for c in guests)
    invited = db.session.scalars(
        sa.select(AuditLog.customer_id).where(
            AuditLog.entity == "experience", AuditLog.actor_id == world.manager.id
        )
    ).all()
    assert sorted(set(invited)) == sorted(c.id for c in guests)


def test_those_refused_are_named_with_why_and_the_others_invited(world):
    """Seed 004: a pamper customer gets no general event; one already invited keeps a seat."""
    rich = make_customer(
        world.alice, "钱多多", "+8613700009999", liquid_assets=Decimal("1000000.00"), willingness=60
    )
    db.session.flush()
    tiering.place(rich, MoveCause.DOSSIER_EDIT, None, first=True)
    event = events.create_event(world.manager, data(capacity="3", total_cost="300.00"))
    db.session.commit()
    assert rich.quadrant == Quadrant.PAMPER
    invitations.invite(world.alice, event, world.alice_customer)
    db.session.commit()
    before = db.session.scalar(sa.select(sa.func.count(AuditLog.id)))
    outcome = guest_lists.invite_customers(
        world.manager, event, [world.alice_customer, rich, world.bob_customer]
    )
    db.session.commit()
    assert outcome.invited == [world.bob_customer]
    assert outcome.already == [world.alice_customer]
    with force_locale("en"):
        why = {c.name: " ".join(map(str, texts)) for c, texts in outcome.refused}
    assert set(why) == {"钱多多"}
    assert "does not offer" in why["钱多多"] and "approving" in why["钱多多"]
    # Nothing of the refused customer's was written: one invitation's rows only.
    assert seats(event) == sorted([world.alice_customer.id, world.bob_customer.id])
    rows = db.session.scalars(sa.select(AuditLog).order_by(AuditLog.id).offset(before)).all()
    assert {r.customer_id for r in rows if r.customer_id} == {world.bob_customer.id}


def test_a_manager_approves_those_past_the_matrix_with_a_reason(world):
    rich = make_customer(
        world.alice, "钱多多", "+8613700009999", liquid_assets=Decimal("1000000.00"), willingness=60
    )
    db.session.flush()
    tiering.place(rich, MoveCause.DOSSIER_EDIT, None, first=True)
    event = events.create_event(world.manager, data(capacity="3", total_cost="300.00"))
    db.session.commit()
    outcome = guest_lists.invite_customers(world.manager, event, [rich], "客户主动要求参加")
    db.session.commit()
    assert outcome.invited == [rich]


def test_more_customers_than_places_left_refuses_the_whole_selection(world):
    event = events.create_event(world.manager, data(capacity="3", total_cost="300.00"))
    db.session.commit()
    guests = guests_of(world, 4)
    invitations.invite(world.manager, event, guests[0])
    db.session.commit()
    before = written()
    with pytest.raises(InvalidInput) as error:
        guest_lists.invite_customers(world.manager, event, guests)
    db.session.rollback()
    assert "3 of the chosen customers can be invited, but only 2 places are left" in refusal(error)
    assert written() == before


def test_another_writer_at_the_same_moment_refuses_the_whole_selection(world):
    event = events.create_event(world.manager, data(capacity="5", total_cost="500.00"))
    db.session.commit()
    guests = guests_of(world, 2)
    before = written()
    db.session.execute(
        sa.update(GroupEvent)
        .where(GroupEvent.id == event.id)
        .values(version=event.version + 1)
        .execution_options(synchronize_session=False)
    )
    with pytest.raises(InvalidInput) as error:
        guest_lists.invite_customers(world.manager, event, guests)
    assert "Someone changed the event at the same moment" in refusal(error)
    assert written() == before


def test_a_past_event_refuses_each_customer_and_is_not_offered(world):
    event = held_event(world)
    outcome = guest_lists.invite_customers(world.manager, event, [world.alice_customer])
    assert outcome.invited == []
    with force_locale("en"):
        assert "over" in str(outcome.refused[0][1][0])
    assert event not in group_invitations.open_events(world.manager)


def test_only_events_of_the_users_branch_can_be_chosen(world):
    east = events.create_event(world.manager, data())
    db.session.commit()
    assert group_invitations.open_events(world.alice) == [east]
    assert group_invitations.open_events(world.carol) == []
    with pytest.raises(InvalidInput):
        group_invitations.chosen_event(world.carol, east.id)
    with pytest.raises(InvalidInput):
        group_invitations.chosen_event(world.alice, "abc")
    assert group_invitations.chosen_event(world.alice, str(east.id)) == east
