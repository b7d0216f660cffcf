"""Group events as the domain runs them: creating them, and recording who attended."""

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from crm.core.clock import local_today
from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import AuditLog
from crm.models.base import utcnow
from crm.models.enums import ExperienceStatus
from crm.services.experiences import attendance, events, invitations, recording
from tests.services.experiences.event_helpers import (
    data,
    guests_of,
    held_event,
    message,
    written,
)


def invite_before(world, event, *customers):
    """Invitations made a week before a past event."""
    before = event.held_on - timedelta(days=7)
    invited = [invitations.invite(world.manager, event, c, today=before) for c in customers]
    db.session.commit()
    return invited


# --- creating -----------------------------------------------------------------------------


def test_create_event_for_the_users_branch_and_audit_it(world):
    event = events.create_event(world.alice, data(branch_id=world.west.id))
    db.session.commit()
    assert event.branch == world.east  # not the branch asked for: staff hold their own
    assert event.organiser_id == world.alice.id
    assert event.total_cost == Decimal("1000.00") and event.capacity == 10
    rows = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.entity == "group_event", AuditLog.entity_id == event.id)
    ).all()
    assert {r.field for r in rows} >= {"title", "held_on", "capacity", "total_cost"}
    assert all(r.action == "create" and r.actor_id == world.alice.id for r in rows)


@pytest.mark.parametrize(
    "field, value",
    [
        ("total_cost", "-1.00"),
        ("total_cost", "abc"),
        ("total_cost", "NaN"),
        ("total_cost", "10000000.01"),
        ("total_cost", ""),
        ("capacity", "0"),
        ("capacity", "ten"),
        ("capacity", "10001"),
        ("title", ""),
        ("title", "名" * 121),
        ("place", ""),
        ("held_on", timedelta(days=-1)),  # from today
        ("held_on", timedelta(days=400)),
        ("held_on", None),
        ("category", "visit"),
        ("notes", "bad\x00note"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(world, field, value):
    if isinstance(value, timedelta):
        value = local_today() + value
    before = written()
    with pytest.raises(InvalidInput) as error:
        events.create_event(world.manager, data(**{field: value}))
    db.session.rollback()
    assert field in error.value.errors
    assert written() == before


def test_an_admin_picks_one_of_the_branches(world):
    with pytest.raises(InvalidInput) as error:
        events.create_event(world.admin, data())
    db.session.rollback()
    assert "branch_id" in error.value.errors
    event = events.create_event(world.admin, data(branch_id=str(world.west.id)))
    assert event.branch == world.west


def test_events_for_shows_the_users_branch(world):
    east = events.create_event(world.manager, data(title="东"))
    west = events.create_event(world.carol, data(title="西"))
    old = held_event(world, days_ago=200)
    old.attendance_recorded_at = old.created_at
    db.session.commit()
    assert [e.title for e in events.events_for(world.alice).upcoming] == [east.title]
    assert [e.title for e in events.events_for(world.carol).upcoming] == [west.title]
    assert {e.id for e in events.events_for(world.admin).upcoming} == {east.id, west.id}
    assert events.events_for(world.manager).recent == []  # long past and recorded


# --- attendance ---------------------------------------------------------------------------


def test_attendance_shares_the_cost_exactly_among_those_who_came(world):
    event = held_event(world, total_cost=Decimal("1000.00"))
    invited = invite_before(world, event, *guests_of(world, 4))
    came = [g.customer_id for g in invited[:3]]
    attendance.record_attendance(world.manager, event, [str(c) for c in came], event.version)
    db.session.commit()
    db.session.expire_all()
    costs = [g.actual_cost for g in invited]
    assert costs == [Decimal("333.34"), Decimal("333.33"), Decimal("333.33"), Decimal("0.00")]
    assert sum(costs) == event.total_cost
    assert [g.status for g in invited] == [ExperienceStatus.DONE] * 3 + [ExperienceStatus.NO_SHOW]
    assert all(g.held_on == event.held_on for g in invited)
    assert event.attendance_recorded_at is not None
    rows = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.entity == "experience", AuditLog.action == "attendance")
    ).all()
    assert {r.customer_id for r in rows} == {g.customer_id for g in invited}


def test_the_remainder_fen_go_to_the_first_guests():
    assert attendance.shares(Decimal("0.05"), 3) == [
        Decimal("0.02"),
        Decimal("0.02"),
        Decimal("0.01"),
    ]
    assert attendance.shares(Decimal("900.00"), 3) == [Decimal("300.00")] * 3
    assert attendance.shares(Decimal("100.00"), 0) == []


def test_cancelled_invitations_are_left_out_of_the_attendance(world):
    event = held_event(world, total_cost=Decimal("90.00"))
    first, second = invite_before(world, event, world.alice_customer, world.bob_customer)
    invitations.cancel_invitation(
        world.manager, event, second, today=event.held_on - timedelta(days=1)
    )
    db.session.commit()
    with pytest.raises(InvalidInput) as error:
        attendance.record_attendance(world.manager, event, [second.customer_id], event.version)
    db.session.rollback()
    assert "attended" in error.value.errors
    attendance.record_attendance(world.manager, event, [first.customer_id], event.version)
    db.session.commit()
    assert first.actual_cost == Decimal("90.00")  # the whole cost: the only guest who came
    assert second.status == ExperienceStatus.CANCELLED and second.actual_cost is None


def test_attendance_is_recorded_only_once(world):
    event = held_event(world)
    invite_before(world, event, world.alice_customer)
    attendance.record_attendance(world.manager, event, [world.alice_customer.id], event.version)
    db.session.commit()
    with pytest.raises(InvalidInput) as error:
        attendance.record_attendance(world.manager, event, [], event.version)
    assert "already" in message(error, "")


def test_attendance_is_refused_before_the_event_date(world):
    event = events.create_event(world.manager, data())
    invitations.invite(world.alice, event, world.alice_customer)
    db.session.commit()
    before = written()
    with pytest.raises(InvalidInput) as error:
        attendance.record_attendance(world.manager, event, [world.alice_customer.id], event.version)
    db.session.rollback()
    assert "from the event date" in message(error, "")
    assert written() == before


@pytest.mark.parametrize("attended", [["999999"], ["abc"], ["-1"]])
def test_only_invited_customers_can_have_attended(world, attended):
    event = held_event(world)
    invite_before(world, event, world.alice_customer)
    before = written()
    with pytest.raises(InvalidInput) as error:
        attendance.record_attendance(world.manager, event, attended, event.version)
    db.session.rollback()
    assert "attended" in error.value.errors
    assert written() == before


def test_attendance_on_a_stale_guest_list_is_refused(world):
    event = held_event(world)
    invite_before(world, event, world.alice_customer)
    with pytest.raises(InvalidInput) as error:
        attendance.record_attendance(world.manager, event, [], event.version - 1)
    assert "guest list" in message(error, "")


def test_only_the_organiser_or_a_manager_records_attendance(world):
    event = held_event(world, organiser_id=world.alice.id)
    invite_before(world, event, world.alice_customer, world.bob_customer)
    with pytest.raises(InvalidInput):
        attendance.record_attendance(world.bob, event, [], event.version)
    with pytest.raises(InvalidInput):
        attendance.record_attendance(world.carol, event, [], event.version)
    attendance.record_attendance(world.alice, event, [world.bob_customer.id], event.version)


def test_each_guests_response_is_then_recorded_as_for_any_experience(world):
    world.alice_customer.created_at = utcnow() - timedelta(days=30)  # a dossier before the event
    event = held_event(world, total_cost=Decimal("200.00"))
    (invitation,) = invite_before(world, event, world.alice_customer)
    attendance.record_attendance(world.manager, event, [world.alice_customer.id], event.version)
    db.session.commit()
    customer = world.alice_customer
    recording.record_experience(
        world.alice,
        invitation,
        {"outcome": "done", "response": "positive"},
        invitation.version,
        customer.version,
    )
    db.session.commit()
    assert invitation.response.value == "positive"
    assert invitation.actual_cost == Decimal("200.00")  # the share stays as attendance set it
    assert customer.willingness == 45
