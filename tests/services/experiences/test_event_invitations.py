"""Invitations to group events: seats, the matrix, budgets and shared costs."""

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import Experience, GroupEvent
from crm.models.enums import ExperienceStatus, MoveCause, PlanOrigin, Quadrant, Touchpoint
from crm.services.customers import tiering
from crm.services.experiences import events, invitations, plans
from tests.services.experiences.event_helpers import (
    count,
    data,
    guests_of,
    held_event,
    message,
    written,
)
from tests.support.factories import make_customer


def pamper_customer(world):
    customer = make_customer(
        world.alice, "钱多多", "+8613700009999", liquid_assets=Decimal("1000000.00"), willingness=60
    )
    db.session.flush()
    tiering.place(customer, MoveCause.DOSSIER_EDIT, None, first=True)
    db.session.commit()
    assert customer.quadrant == Quadrant.PAMPER
    return customer


def test_an_invitation_plans_an_experience_at_the_estimated_share(world):
    event = events.create_event(world.manager, data(total_cost="100.00", capacity="3"))
    db.session.commit()
    invitation = invitations.invite(world.alice, event, world.alice_customer)
    db.session.commit()
    assert invitation.origin == PlanOrigin.EVENT
    assert invitation.status == ExperienceStatus.PLANNED
    assert invitation.due_on == event.held_on
    assert invitation.planned_cost == Decimal("33.34")
    assert invitation.group_event_id == event.id
    assert invitation.created_by_id == world.alice.id


def test_inviting_past_capacity_is_refused_and_writes_nothing(world):
    event = events.create_event(world.manager, data(capacity="2", total_cost="200.00"))
    db.session.commit()
    first, second, third = guests_of(world, 3)
    invitations.invite(world.manager, event, first)
    invitations.invite(world.manager, event, second)
    db.session.commit()
    before = written()
    with pytest.raises(InvalidInput) as error:
        invitations.invite(world.manager, event, third)
    db.session.rollback()
    assert "full (2 places)" in message(error, "")
    assert written() == before


def test_a_cancelled_seat_can_be_taken_and_the_invitation_reactivated(world):
    event = events.create_event(world.manager, data(capacity="1", total_cost="100.00"))
    db.session.commit()
    invitation = invitations.invite(world.manager, event, world.alice_customer)
    db.session.commit()
    invitations.cancel_invitation(world.manager, event, invitation)
    db.session.commit()
    assert invitation.status == ExperienceStatus.CANCELLED
    again = invitations.invite(world.alice, event, world.alice_customer)
    db.session.commit()
    assert again.id == invitation.id and again.status == ExperienceStatus.PLANNED
    with pytest.raises(InvalidInput) as error:
        invitations.invite(world.manager, event, world.bob_customer)
    assert "full" in message(error, "")


def test_inviting_twice_is_refused(world):
    event = events.create_event(world.manager, data())
    invitations.invite(world.alice, event, world.alice_customer)
    db.session.commit()
    with pytest.raises(InvalidInput) as error:
        invitations.invite(world.manager, event, world.alice_customer)
    assert "customer_id" in error.value.errors


def test_staff_invite_only_their_own_customers(world):
    event = events.create_event(world.manager, data())
    db.session.commit()
    with pytest.raises(InvalidInput) as error:
        invitations.invite(world.alice, event, world.bob_customer)
    assert "customer_id" in error.value.errors
    with pytest.raises(InvalidInput):
        invitations.find_customer(world.alice, world.bob_customer.id)
    assert (
        invitations.find_customer(world.alice, str(world.alice_customer.id)) == world.alice_customer
    )


def test_a_quadrant_the_matrix_never_offers_the_category_is_refused(world):
    """Seed 004: pamper customers get no general events (×)."""
    customer = pamper_customer(world)
    event = events.create_event(world.manager, data(category="event"))
    db.session.commit()
    before = written()
    with pytest.raises(plans.OverLimit) as error:
        invitations.invite(world.alice, event, customer)
    db.session.rollback()
    text = message(error, "category")
    assert "does not offer" in text and "Pamper" in text
    assert written() == before
    # A premium event suits them.
    premium = events.create_event(world.manager, data(category="premium_event"))
    assert invitations.invite(world.alice, premium, customer).category == Touchpoint.PREMIUM_EVENT


def test_a_manager_may_approve_a_refused_invitation_with_a_reason(world):
    customer = pamper_customer(world)
    event = events.create_event(world.manager, data())
    db.session.commit()
    with pytest.raises(plans.OverLimit) as error:
        invitations.invite(world.manager, event, customer)
    db.session.rollback()
    assert "approval_reason" in error.value.errors
    invitation = invitations.invite(world.manager, event, customer, reason="客户主动要求参加")
    db.session.commit()
    assert invitation.approved_by_id == world.manager.id
    assert invitation.approval_reason == "客户主动要求参加"


def test_a_share_past_the_budget_is_refused_by_how_much(world):
    """The develop budget is ¥300 a year; a ¥1,000 seat passes it by ¥700."""
    event = events.create_event(world.manager, data(total_cost="10000.00", capacity="10"))
    db.session.commit()
    before = written()
    with pytest.raises(plans.OverLimit) as error:
        invitations.invite(world.alice, event, world.alice_customer)
    db.session.rollback()
    assert "700.00" in message(error, "planned_cost")
    assert written() == before


def test_a_cadence_plan_near_the_date_becomes_the_invitation(world):
    event = events.create_event(world.manager, data())
    planned = Experience(
        customer=world.alice_customer,
        category=Touchpoint.EVENT,
        origin=PlanOrigin.CADENCE,
        due_on=event.held_on + timedelta(days=20),
        planned_cost=Decimal("150.00"),
    )
    far = Experience(
        customer=world.alice_customer,
        category=Touchpoint.EVENT,
        origin=PlanOrigin.CADENCE,
        due_on=event.held_on + timedelta(days=45),
        planned_cost=Decimal("150.00"),
    )
    db.session.add_all([planned, far])
    db.session.commit()
    before = count(Experience)
    invitation = invitations.invite(world.alice, event, world.alice_customer)
    db.session.commit()
    assert invitation.id == planned.id
    assert count(Experience) == before
    assert invitation.origin == PlanOrigin.CADENCE
    assert invitation.group_event_id == event.id
    assert invitation.due_on == event.held_on
    assert invitation.planned_cost == Decimal("100.00")
    assert far.group_event_id is None and far.due_on == event.held_on + timedelta(days=45)


def test_two_people_taking_the_last_seat_at_once_collide(world):
    event = events.create_event(world.manager, data(capacity="1", total_cost="100.00"))
    db.session.commit()
    # Another writer's invitation lands after this session read the event.
    db.session.execute(
        sa.update(GroupEvent)
        .where(GroupEvent.id == event.id)
        .values(version=event.version + 1)
        .execution_options(synchronize_session=False)
    )
    with pytest.raises(InvalidInput) as error:
        invitations.invite(world.alice, event, world.alice_customer)
    assert "same moment" in message(error, "")
    assert count(Experience) == 0


def test_no_invitations_to_a_past_event(world):
    event = held_event(world)
    with pytest.raises(InvalidInput) as error:
        invitations.invite(world.alice, event, world.alice_customer)
    assert "over" in message(error, "")
