"""Every write that changes a customer's last contact or next planned experience keeps the
stored dates right, so the list sorted by them follows at once: recording, planning by hand,
the planner, cancelling, invitations and attendance, a lost customer, a re-plan after a move,
an SMS sent, an approved plan, plans cancelled as no longer allowed."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from crm.core.clock import business_zone, local_today
from crm.extensions import db
from crm.models import Customer, Experience
from crm.models.enums import ExperienceStatus, MoveCause, PlanOrigin, Quadrant, Touchpoint
from crm.services.customers import tiering
from crm.services.customers.customer_list import CustomerFilters, list_customers
from crm.services.experiences import attendance, events, invitations, plans, recording
from crm.services.management import approvals
from crm.services.outreach.sending import close_experiences
from crm.services.planning import planner
from crm.services.retention import status
from tests.services.experiences.event_helpers import data as event_data
from tests.services.experiences.event_helpers import held_event
from tests.support.factories import make_customer


@pytest.fixture
def three(world):
    """Alice's 张伟 and two more, none with any experience yet, all placed in develop."""
    for n, name in enumerate(("孙丽", "周强")):
        make_customer(world.alice, name, f"+86137200{n:05d}")
    db.session.flush()
    for customer in db.session.scalars(sa.select(Customer).where(Customer.owner == world.alice)):
        tiering.place(customer, MoveCause.IMPORT, None, first=True)
    db.session.commit()
    return world


def customer(name: str) -> Customer:
    return db.session.scalars(sa.select(Customer).where(Customer.name == name)).one()


def order(world, sort: str) -> list[str]:
    db.session.expire_all()
    page = list_customers(world.alice, CustomerFilters(sort=sort))
    return [c.name for c in page.customers]


def plan(world, name: str, days: int, category: str = "visit") -> Experience:
    due = local_today() + timedelta(days=days)
    experience = plans.add_experience(
        world.alice, customer(name), {"category": category, "due_on": due}
    )
    db.session.commit()
    return experience


def record(world, experience: Experience, **data) -> recording.Recorded:
    values = {
        "outcome": "done",
        "held_on": local_today(),
        "response": "neutral",
        # The dossier as it was: no move, so no re-plan (a test of its own below).
        "willingness": str(experience.customer.willingness),
        **data,
    }
    result = recording.record_experience(
        world.alice, experience, values, experience.version, experience.customer.version
    )
    db.session.commit()
    return result


def test_planning_by_hand_sorts_by_the_next_planned(three, backend):
    plan(three, "周强", 10)
    plan(three, "孙丽", 3)
    assert order(three, "planned_soonest") == ["孙丽", "周强", "张伟"]
    assert order(three, "planned_latest") == ["周强", "孙丽", "张伟"]


def test_recording_a_visit_makes_it_the_last_contact_and_the_next_plan_moves_on(three, backend):
    first = plan(three, "孙丽", 0)
    plan(three, "孙丽", 20)
    plan(three, "周强", 10)
    assert order(three, "planned_soonest") == ["孙丽", "周强", "张伟"]
    record(three, first)
    assert order(three, "contact_recent")[0] == "孙丽"
    assert customer("孙丽").last_contact_on == local_today()
    # 孙丽's next is now the one in 20 days, after 周强's.
    assert order(three, "planned_soonest") == ["周强", "孙丽", "张伟"]


def test_cancelling_a_plan_makes_the_one_after_it_next(three, backend):
    soon = plan(three, "孙丽", 3)
    plan(three, "孙丽", 30)
    plan(three, "周强", 10)
    record(three, soon, outcome="cancelled")
    assert order(three, "planned_soonest") == ["周强", "孙丽", "张伟"]
    assert customer("孙丽").last_contact_on is None  # a cancelled plan is no contact


def test_the_planner_sets_each_customers_next_in_one_statement(three, backend):
    updates: list[str] = []

    def watch(_conn, _cursor, statement, *_):
        if statement.lstrip().upper().startswith("UPDATE CUSTOMER"):
            updates.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", watch)
    try:
        planner.plan_contacts(local_today() + timedelta(days=60))
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", watch)
    assert len(updates) == 1
    db.session.expire_all()
    earliest = dict(
        db.session.execute(
            sa.select(Experience.customer_id, sa.func.min(Experience.due_on))
            .where(Experience.status == ExperienceStatus.PLANNED)
            .group_by(Experience.customer_id)
        ).all()
    )
    stored = dict(db.session.execute(sa.select(Customer.id, Customer.next_planned_on)).all())
    assert earliest and all(stored[c] == day for c, day in earliest.items())
    assert all(day is None for c, day in stored.items() if c not in earliest)


def test_a_move_re_plans_and_the_next_planned_follows(three, backend):
    visit = plan(three, "孙丽", 0)
    moved = record(three, visit, willingness="90", liquid_assets="2000000.00")
    assert moved.moved_to == Quadrant.PAMPER and moved.replanned.planned
    due = db.session.scalar(
        sa.select(sa.func.min(Experience.due_on)).where(
            Experience.customer_id == visit.customer_id,
            Experience.status == ExperienceStatus.PLANNED,
        )
    )
    assert customer("孙丽").next_planned_on == due
    assert order(three, "planned_soonest")[0] == "孙丽"


def test_an_invitation_plans_and_its_cancelling_unplans(three, backend):
    event = events.create_event(three.manager, event_data(held_on=local_today() + timedelta(7)))
    db.session.commit()
    invitation = invitations.invite(three.manager, event, customer("周强"))
    db.session.commit()
    assert order(three, "planned_soonest")[0] == "周强"
    invitations.cancel_invitation(three.manager, event, invitation)
    db.session.commit()
    assert customer("周强").next_planned_on is None


def test_attendance_makes_the_event_the_last_contact_of_those_invited(three, backend):
    event = held_event(three, days_ago=2)
    before = event.held_on - timedelta(days=7)
    guests = [
        invitations.invite(three.manager, event, customer(name), today=before)
        for name in ("周强", "张伟")
    ]
    db.session.commit()
    attendance.record_attendance(three.manager, event, [guests[0].customer_id], event.version)
    db.session.commit()
    # 周强 came, 张伟 did not: both were reached (a no-show counts, as churn scoring counts it).
    assert customer("周强").last_contact_on == event.held_on
    assert customer("张伟").last_contact_on == event.held_on
    assert order(three, "contact_oldest") == ["张伟", "周强", "孙丽"]


def test_a_lost_customer_has_nothing_planned_any_more(three, backend):
    plan(three, "孙丽", 5)
    plan(three, "周强", 9)
    lost = customer("孙丽")
    status.set_relationship_status(
        three.alice,
        lost,
        {"relationship_status": "lost", "lost_reason": "assets_moved", "lost_on": local_today()},
        lost.version,
    )
    db.session.commit()
    assert order(three, "planned_soonest") == ["周强", "张伟", "孙丽"]


def test_an_sms_sent_is_a_contact(three, backend):
    sms = Experience(
        customer=customer("张伟"),
        category=Touchpoint.ROUTINE,
        status=ExperienceStatus.PLANNED,
        origin=PlanOrigin.CADENCE,
        due_on=local_today(),
        planned_cost=Decimal("0.10"),
        version=1,
    )
    db.session.add(sms)
    db.session.commit()
    now = datetime.combine(local_today(), time(10), business_zone()).astimezone(UTC)
    close_experiences([sms.id], [], now)
    db.session.commit()
    assert order(three, "contact_recent")[0] == "张伟"


def test_an_approved_plan_is_the_next_planned(three, backend):
    request = approvals.request_approval(
        three.alice,
        customer("孙丽"),
        {
            "category": "premium_event",
            "due_on": local_today() + timedelta(days=4),
            "planned_cost": "2000.00",
            "reason": "客户即将到期大额保单，邀请参加酒会",
        },
    )
    db.session.commit()
    assert customer("孙丽").next_planned_on is None
    approvals.approve(three.manager, request, {"decision_reason": "重点客户"})
    db.session.commit()
    assert customer("孙丽").next_planned_on == local_today() + timedelta(days=4)


def test_plans_cancelled_as_no_longer_allowed_leave_the_next_planned(three, backend):
    sms = plan(three, "周强", 2, category="routine")
    assert customer("周强").next_planned_on == sms.due_on
    who = customer("周强")
    who.sms_consent = False  # cadence SMS to a customer who can no longer receive them
    sms.origin = PlanOrigin.CADENCE
    db.session.commit()
    assert planner.cancel_disallowed(local_today(), Customer.id == who.id) == 1
    db.session.commit()
    assert customer("周强").next_planned_on is None
