"""Approval requests (审批申请): staff ask for a plan the budget or a × mark refused; a branch
manager approves it (planned, with approver and reason) or declines it (the staff member is
told why); both audited; one's own request, or one already decided, is refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from crm.core.clock import local_today
from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import (
    ApprovalRequest,
    ApprovalStatus,
    AuditLog,
    Experience,
    Notification,
    Staff,
    TouchpointRule,
)
from crm.models.enums import Mark, MoveCause, NotificationKind, Quadrant, Role, Touchpoint
from crm.services.customers import tiering
from crm.services.experiences import plans
from crm.services.management import approvals
from crm.services.outreach import digest
from tests.support.factories import make_staff


@pytest.fixture
def develop(world):
    """Alice's customer in develop: ¥300 a year, premium events never (×)."""
    customer = world.alice_customer
    tiering.place(customer, MoveCause.IMPORT, None, first=True)
    db.session.commit()
    assert customer.quadrant == Quadrant.DEVELOP
    return customer


def ask(world, customer, **data):
    values = {
        "category": "premium_event",
        "due_on": local_today(),
        "planned_cost": "2000.00",
        "reason": "客户即将到期大额保单，邀请参加酒会",
        **data,
    }
    request = approvals.request_approval(world.alice, customer, values)
    db.session.commit()
    return request


def _experiences() -> list[Experience]:
    return list(db.session.scalars(sa.select(Experience)))


def test_staff_ask_and_a_manager_approves_it_into_a_plan(world, develop):
    with pytest.raises(plans.OverLimit):
        plans.add_experience(
            world.alice, develop, {"category": "premium_event", "due_on": local_today()}
        )
    db.session.rollback()
    request = ask(world, develop)
    assert request.refused_rules == {"category", "planned_cost"}
    assert [r.id for r in approvals.waiting(world.manager)] == [request.id]
    assert approvals.waiting(world.carol) == [] and approvals.waiting_count(world.alice) == 0

    experience = approvals.approve(world.manager, request, {"decision_reason": "重点客户"})
    db.session.commit()

    assert request.status == ApprovalStatus.APPROVED
    assert request.experience_id == experience.id
    assert (experience.approved_by_id, experience.approval_reason) == (world.manager.id, "重点客户")
    assert experience.created_by_id == world.alice.id
    assert experience.planned_cost == Decimal("2000.00")
    audited = db.session.scalars(
        sa.select(AuditLog.entity).where(AuditLog.customer_id == develop.id)
    ).all()
    assert "approval_request" in audited and "experience" in audited
    told = db.session.scalars(sa.select(Notification)).one()
    assert (told.staff_id, told.kind) == (world.alice.id, NotificationKind.APPROVAL)
    assert approvals.waiting(world.manager) == []


def test_a_decline_tells_the_staff_member_why_and_plans_nothing(world, develop):
    request = ask(world, develop)
    with pytest.raises(InvalidInput) as no_reason:
        approvals.decline(world.manager, request, {"decision_reason": ""})
    assert "decision_reason" in no_reason.value.errors
    db.session.rollback()

    approvals.decline(world.manager, request, {"decision_reason": "本季度预算已用完"})
    db.session.commit()

    assert request.status == ApprovalStatus.DECLINED and _experiences() == []
    told = db.session.scalars(sa.select(Notification)).one()
    assert told.staff_id == world.alice.id and "本季度预算已用完" in told.body
    reasons = db.session.scalars(
        sa.select(AuditLog.reason).where(
            AuditLog.entity == "approval_request", AuditLog.action == "update"
        )
    ).all()
    assert reasons == ["本季度预算已用完"]


def test_ones_own_request_and_a_decided_one_are_refused(world, develop):
    world.alice.role = Role.MANAGER  # a manager who asked, as staff would
    db.session.commit()
    request = ask(world, develop)
    with pytest.raises(InvalidInput) as own:
        approvals.approve(world.alice, request, {})
    assert str(approvals.OWN_REQUEST) in [str(m) for m in own.value.errors.values()]
    db.session.rollback()

    approvals.approve(world.manager, request, {})
    db.session.commit()
    other = make_staff("frank", Role.MANAGER, world.east)
    db.session.commit()
    for decide in (approvals.approve, approvals.decline):
        with pytest.raises(InvalidInput):
            decide(other, request, {"decision_reason": "再批一次"})
        db.session.rollback()
    assert len(_experiences()) == 1


def test_a_plan_the_rules_allow_needs_no_request(world, develop):
    with pytest.raises(InvalidInput) as refused:
        ask(world, develop, category="routine", planned_cost="1.00")
    assert str(approvals.NOT_NEEDED) in [str(m) for m in refused.value.errors.values()]
    with pytest.raises(InvalidInput) as no_reason:
        ask(world, develop, reason="  ")
    assert "reason" in no_reason.value.errors
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApprovalRequest)) == 0


def test_approval_skips_only_the_rule_that_refused_it(world, develop):
    """Asked for the budget alone (a visit over ¥300): if the matrix marks visits × before
    the decision, approving is refused rather than letting a second rule through."""
    request = ask(world, develop, category="visit", planned_cost="900.00")
    assert request.refused_rules == {"planned_cost"}
    rule = db.session.get(TouchpointRule, (Quadrant.DEVELOP, Touchpoint.VISIT))
    rule.mark, was = Mark.NEVER, rule.mark
    db.session.commit()

    with pytest.raises(InvalidInput) as refused:
        approvals.approve(world.manager, request, {})
    assert "category" in refused.value.errors
    db.session.rollback()
    assert request.status == ApprovalStatus.PENDING and _experiences() == []

    rule = db.session.get(TouchpointRule, (Quadrant.DEVELOP, Touchpoint.VISIT))
    rule.mark = was
    db.session.commit()
    approvals.approve(world.manager, request, {})  # the budget alone: let through
    db.session.commit()
    assert len(_experiences()) == 1


def test_waiting_requests_reach_the_managers_digest(world, develop):
    ask(world, develop)
    sections = digest.approval_sections(sa.select(Staff.id), local_today())
    assert list(sections) == [world.manager.id]
    assert sections[world.manager.id][0].count == 1
