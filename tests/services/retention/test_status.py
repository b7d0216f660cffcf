"""The relationship status: lost needs a reason and a sensible date, is audited, and a lost
customer receives nothing more: no plan, no SMS."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import AuditLog, Experience, OutboxMessage
from crm.models.base import utcnow
from crm.models.enums import (
    ChurnLevel,
    ExperienceStatus,
    Gender,
    LostReason,
    MessagePurpose,
    OutboxStatus,
    PlanOrigin,
    RelationshipStatus,
    Touchpoint,
)
from crm.services.outreach.dispatch import dispatch
from crm.services.outreach.enqueue import enqueue_due
from crm.services.planning import planner
from crm.services.retention import status

# 10:00 in Shanghai, inside the SMS window.
MORNING = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
TODAY = MORNING.date()


@pytest.fixture
def consenting(world):
    """Two customers of Alice's who agreed to SMS, their dossiers opened a month ago."""
    for customer in (world.alice_customer, world.bob_customer):
        customer.sms_consent = True
        customer.sms_consent_at = utcnow()
        customer.gender = Gender.MALE
        customer.created_at = MORNING - timedelta(days=30)
    db.session.commit()
    return world


def routine(customer, due_on=TODAY) -> Experience:
    experience = Experience(
        customer=customer,
        category=Touchpoint.ROUTINE,
        status=ExperienceStatus.PLANNED,
        origin=PlanOrigin.CADENCE,
        due_on=due_on,
        planned_cost=Decimal("0.10"),
    )
    db.session.add(experience)
    db.session.flush()
    return experience


def mark_lost(world, customer, **data):
    values = {"relationship_status": "lost", "lost_reason": "assets_moved", "lost_on": TODAY}
    changes = status.set_relationship_status(
        world.alice, customer, {**values, **data}, customer.version, today=TODAY
    )
    db.session.commit()
    return changes


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"lost_reason": ""}, "lost_reason"),
        ({"lost_reason": "bored"}, "lost_reason"),
        ({"lost_on": ""}, "lost_on"),
        ({"lost_on": "2026-11-24"}, "lost_on"),  # tomorrow
        ({"lost_on": "2026-10-01"}, "lost_on"),  # before the dossier opened
        ({"relationship_status": "gone"}, "relationship_status"),
    ],
)
def test_a_bad_status_is_refused_and_nothing_is_written(consenting, data, field):
    customer = consenting.alice_customer
    routine(customer)
    db.session.commit()
    with pytest.raises(InvalidInput) as refused:
        mark_lost(consenting, customer, **data)
    assert set(refused.value.errors) == {field}
    db.session.rollback()
    assert customer.relationship_status == RelationshipStatus.ACTIVE
    assert customer.lost_reason is None and customer.lost_on is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)) == 0
    assert db.session.scalar(sa.select(Experience.status)) == ExperienceStatus.PLANNED


def test_marking_lost_is_audited_with_the_reason_and_date(consenting):
    customer = consenting.alice_customer
    customer.churn_level = ChurnLevel.HIGH
    db.session.commit()
    mark_lost(consenting, customer, lost_on=TODAY - timedelta(days=3))
    assert customer.relationship_status == RelationshipStatus.LOST
    assert customer.lost_reason == LostReason.ASSETS_MOVED
    assert customer.lost_on == date(2026, 11, 20)
    assert customer.churn_level is None  # no longer a warning to act on
    rows = db.session.scalars(sa.select(AuditLog).where(AuditLog.customer_id == customer.id))
    assert {(r.field, r.new_value, r.actor_id) for r in rows} == {
        ("relationship_status", "lost", consenting.alice.id),
        ("lost_reason", "assets_moved", consenting.alice.id),
        ("lost_on", "2026-11-20", consenting.alice.id),
    }


def test_a_dormant_customer_needs_no_reason(consenting):
    customer = consenting.alice_customer
    status.set_relationship_status(
        consenting.alice, customer, {"relationship_status": "dormant"}, customer.version
    )
    db.session.commit()
    assert customer.relationship_status == RelationshipStatus.DORMANT
    assert customer.lost_reason is None


def test_a_lost_customer_leaves_every_plan_and_queue_at_once(consenting):
    customer = consenting.alice_customer
    due = routine(customer)
    later = routine(customer, TODAY + timedelta(days=10))
    db.session.commit()
    assert enqueue_due(TODAY, MORNING) == 1
    mark_lost(consenting, customer)
    db.session.expire_all()
    assert {due.status, later.status} == {ExperienceStatus.CANCELLED}
    [message] = db.session.scalars(sa.select(OutboxMessage)).all()
    assert message.status == OutboxStatus.SKIPPED
    dispatch(now=MORNING)
    assert db.session.get(OutboxMessage, message.id).sent_at is None


def test_the_planner_and_the_sms_queue_never_pick_a_lost_customer_again(consenting):
    lost, kept = consenting.alice_customer, consenting.bob_customer
    mark_lost(consenting, lost)
    planner.plan_contacts(TODAY + timedelta(days=60), today=TODAY)
    db.session.commit()
    planned = dict(
        db.session.execute(
            sa.select(Experience.customer_id, sa.func.count()).group_by(Experience.customer_id)
        ).all()
    )
    assert planned.get(lost.id) is None and planned[kept.id] > 0
    # A contact planned by hand before the status was set is not sent either.
    routine(lost)
    db.session.commit()
    enqueue_due(TODAY, MORNING)
    recipients = db.session.scalars(
        sa.select(OutboxMessage.customer_id).where(
            OutboxMessage.purpose == MessagePurpose.MARKETING
        )
    ).all()
    assert lost.id not in recipients


def test_the_planner_cancels_what_a_lost_customer_still_had(consenting):
    customer = consenting.alice_customer
    customer.relationship_status = RelationshipStatus.LOST  # e.g. set by an import
    experience = routine(customer, TODAY + timedelta(days=3))
    db.session.commit()
    planner.plan_contacts(TODAY + timedelta(days=28), today=TODAY)
    db.session.commit()
    db.session.expire_all()
    assert experience.status == ExperienceStatus.CANCELLED
