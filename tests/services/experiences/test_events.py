"""Group events as the domain runs them: seats, the matrix, budgets and shared costs."""

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from crm.core.clock import local_today
from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import AuditLog, Experience, GroupEvent
from crm.models.base import utcnow
from crm.models.enums import ExperienceStatus, MoveCause, PlanOrigin, Quadrant, Touchpoint
from crm.services.customers import tiering
from crm.services.experiences import attendance, events, invitations, plans, recording
from tests.support.factories import make_customer


def data(**overrides):
    values = {
        "category": "event",
        "title": "理财讲座",
        "held_on": local_today() + timedelta(days=14),
        "place": "城东支行二楼会议室",
        "capacity": "10",
        "total_cost": "1000.00",
        "notes": "",
    }
    values.update(overrides)
    return values


def count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def message(error, field: str) -> str:
    """A refusal's message in English, whatever the catalogue says in Chinese."""
    with force_locale("en"):
        return str(error.value.errors[field])


def written():
    db.session.expire_all()
    return count(GroupEvent), count(Experience), count(AuditLog)


def held_event(world, days_ago=1, **fields):
    """An event that has already taken place (the service would refuse to create it)."""
    values = {
        "category": Touchpoint.EVENT,
        "title": "客户联谊会",
        "held_on": local_today() - timedelta(days=days_ago),
        "place": "城东支行",
        "capacity": 10,
        "total_cost": Decimal("1000.00"),
        "branch": world.east,
        "organiser_id": world.manager.id,
    }
    values.update(fields)
    event = GroupEvent(**values)
    db.session.add(event)
    db.session.commit()
    return event


def invite_before(world, event, *customers):
    """Invitations made a week before a past event."""
    before = event.held_on - timedelta(days=7)
    invited = [invitations.invite(world.manager, event, c, today=before) for c in customers]
    db.session.commit()
    return invited


def guests_of(world, n):
    extra = [make_customer(world.alice, f"客户{i}", f"+861370000{i:04d}") for i in range(n - 2)]
    db.session.commit()
    return [world.alice_customer, world.bob_customer, *extra]


def pamper_customer(world):
    customer = make_customer(
        world.alice, "钱多多", "+8613700009999", liquid_assets=Decimal("1000000.00"), willingness=60
    )
    db.session.flush()
    tiering.place(customer, MoveCause.DOSSIER_EDIT, None, first=True)
    db.session.commit()
    assert customer.quadrant == Quadrant.PAMPER
    return customer


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


# --- invitations --------------------------------------------------------------------------


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
