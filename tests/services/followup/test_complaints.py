"""Complaints: opening lowers willingness (and may move the quadrant), the 7-day answer,
and bad answers refused with nothing written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import NotFound

from crm.core.clock import local_today
from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import AuditLog, Complaint, QuadrantEvent
from crm.models.enums import MoveCause, Quadrant
from crm.services.customers import tiering
from crm.services.followup import complaints, targets
from crm.services.outreach.digest import send_morning_digest
from crm.services.outreach.inbox import notifications_for


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def opened(world, **data) -> Complaint:
    complaint = complaints.open_complaint(
        world.alice, world.alice_customer, {"point": "满期收益低于存款", **data}
    )
    db.session.commit()
    return complaint


def test_opening_lowers_willingness_and_is_due_in_seven_days(world):
    customer = world.alice_customer
    before = customer.willingness
    at = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
    complaint = opened(world, opened_at=at)
    assert complaint.due_at == at + timedelta(days=7)
    assert customer.willingness == before - 10
    rows = db.session.scalars(sa.select(AuditLog).where(AuditLog.customer_id == customer.id)).all()
    assert {r.entity for r in rows} == {"complaint", "customer"}
    assert all(r.actor_id == world.alice.id for r in rows)


def test_a_complaint_can_move_the_quadrant_with_the_complaint_as_cause(world):
    customer = world.alice_customer
    customer.willingness = 62
    tiering.place(customer, MoveCause.IMPORT, None, first=True)
    db.session.commit()
    assert customer.quadrant == Quadrant.MAINTAIN
    complaint = opened(world)
    assert customer.quadrant == Quadrant.DEVELOP
    move = db.session.scalars(
        sa.select(QuadrantEvent).where(QuadrantEvent.cause == MoveCause.COMPLAINT)
    ).one()
    assert move.actor_id == world.alice.id and f"#{complaint.id}" in move.note


def test_the_delta_is_configurable(settings, world):
    settings(CRM_COMPLAINT_DELTA=-3)
    before = world.alice_customer.willingness
    opened(world)
    assert world.alice_customer.willingness == before - 3


def test_the_sla_boundary_answered_at_the_due_instant_is_on_time(world):
    at = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
    complaint = opened(world, opened_at=at)
    due = at + timedelta(days=7)
    assert not complaints.is_overdue(complaint, now=due)
    assert complaints.is_overdue(complaint, now=due + timedelta(seconds=1))

    on_time = data = {"handling_opinion": "已解释分红规则", "non_routine_surrender": "no"}
    complaints.answer_complaint(
        world.alice, complaint, {**on_time, "satisfied": "yes", "answered_at": due}, 1
    )
    db.session.commit()
    assert not complaints.is_overdue(complaint)

    late = opened(world, opened_at=at)
    complaints.answer_complaint(
        world.alice,
        late,
        {**data, "satisfied": "yes", "answered_at": due + timedelta(seconds=1)},
        late.version,
    )
    db.session.commit()
    assert complaints.is_overdue(late)


@pytest.mark.parametrize(
    "data, field",
    [
        ({"non_routine_surrender": "no", "satisfied": "yes"}, "handling_opinion"),
        (
            {"handling_opinion": "x", "non_routine_surrender": "perhaps", "satisfied": "yes"},
            "non_routine_surrender",
        ),
        ({"handling_opinion": "x", "non_routine_surrender": "no"}, "satisfied"),
        (
            {
                "handling_opinion": "x",
                "non_routine_surrender": "no",
                "satisfied": "yes",
                "answered_at": datetime(2026, 11, 1, tzinfo=UTC),  # before it was opened
            },
            "answered_at",
        ),
        (
            {
                "handling_opinion": "x",
                "non_routine_surrender": "no",
                "satisfied": "yes",
                "answered_at": datetime(2100, 1, 1, tzinfo=UTC),
            },
            "answered_at",
        ),
    ],
)
def test_a_bad_answer_is_refused_and_nothing_is_written(world, data, field):
    complaint = opened(world, opened_at=datetime(2026, 11, 2, 3, 0, tzinfo=UTC))
    audit_rows = count(AuditLog)
    with pytest.raises(InvalidInput) as refused:
        complaints.answer_complaint(world.alice, complaint, data, complaint.version)
    db.session.rollback()
    assert field in refused.value.errors
    db.session.refresh(complaint)
    assert complaint.answered_at is None and complaint.handling_opinion is None
    assert count(AuditLog) == audit_rows


def test_answering_twice_is_refused(world):
    complaint = opened(world)
    answer = {"handling_opinion": "x", "non_routine_surrender": "no", "satisfied": "no"}
    complaints.answer_complaint(world.alice, complaint, answer, complaint.version)
    db.session.commit()
    with pytest.raises(InvalidInput):
        complaints.answer_complaint(world.alice, complaint, answer, complaint.version)


def test_an_empty_point_is_refused_and_nothing_is_written(world):
    before = world.alice_customer.willingness
    with pytest.raises(InvalidInput) as refused:
        complaints.open_complaint(world.alice, world.alice_customer, {"point": "  "})
    db.session.rollback()
    assert "point" in refused.value.errors
    assert count(Complaint) == 0 and world.alice_customer.willingness == before


def test_satisfaction_never_counts_a_non_routine_surrender(world):
    """Seed 003: 满意客户指未处理至非常规退保或赔偿客户."""
    for surrender, satisfied in (
        ("no", "yes"),
        ("no", "yes"),
        ("no", "yes"),
        ("yes", "yes"),
        ("no", "no"),
    ):
        complaint = opened(world)
        complaints.answer_complaint(
            world.alice,
            complaint,
            {"handling_opinion": "x", "non_routine_surrender": surrender, "satisfied": satisfied},
            complaint.version,
        )
        db.session.commit()
    today = local_today()
    (row,) = targets.outcomes(world.manager, today, today)
    assert (row.complaints_answered, row.complaints_satisfied) == (5, 3)
    assert str(row.satisfaction) == "60.0"


def test_open_and_overdue_complaints_are_counted_for_the_manager(world):
    opened(world, opened_at=datetime.now(UTC) - timedelta(days=8))
    opened(world)
    today = local_today()
    (row,) = targets.outcomes(world.manager, today, today)
    assert (row.complaints_open, row.complaints_overdue) == (2, 1)
    board = complaints.board(world.alice)
    assert len(board.open) == 2 and len(board.overdue) == 1
    assert board.open[0] is board.overdue[0]  # overdue first


def test_another_staff_members_complaint_is_not_found(world):
    complaint = opened(world)
    with pytest.raises(NotFound):
        complaints.get_complaint_or_404(complaint.id, world.bob)
    assert complaints.get_complaint_or_404(complaint.id, world.manager) is complaint


def test_due_and_overdue_complaints_are_in_the_owners_digest(world):
    world.alice.language = "en"
    opened(world, opened_at=datetime.now(UTC) - timedelta(days=8))
    opened(world, opened_at=datetime.now(UTC) - timedelta(days=6, hours=12))
    opened(world)  # due in a week: not yet worth a line
    sent = send_morning_digest()
    db.session.commit()
    assert sent >= 1
    alice = notifications_for(world.alice)
    body = alice[0].body
    assert "Complaints overdue" in body and "Complaints due" in body
    assert body.count("张伟") == 2
