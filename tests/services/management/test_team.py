"""The team page's figures (团队, the daily check) against counts taken directly, row by row,
for a branch where each staff member's day differs."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import (
    Complaint,
    Customer,
    Experience,
    MaturityCallback,
    Policy,
    Staff,
    StaffSession,
)
from crm.models.base import utcnow
from crm.models.enums import (
    ChurnLevel,
    ExperienceStatus,
    PaymentMode,
    PlanOrigin,
    PolicyStatus,
    ProductType,
    RelationshipStatus,
    Role,
    Touchpoint,
)
from crm.services.management import team
from tests.support.factories import make_customer, make_staff


def _experience(customer, category, status, due_on):
    db.session.add(
        Experience(
            customer=customer,
            category=category,
            status=status,
            origin=PlanOrigin.STAFF,
            due_on=due_on,
            held_on=due_on if status == ExperienceStatus.DONE else None,
            planned_cost=Decimal("80.00"),
            version=1,
        )
    )


def _callback(customer, n, recorded_by=None, recorded_on=None):
    policy = Policy(
        customer=customer,
        policy_number=f"P{customer.id:05d}{n:03d}",
        product_name="千里马两全保险",
        product_type=ProductType.PARTICIPATING,
        premium=Decimal("10000.00"),
        payment_mode=PaymentMode.SINGLE,
        start_date=local_today() - timedelta(days=3000),
        maturity_date=local_today(),
        status=PolicyStatus.IN_FORCE,
    )
    db.session.add(policy)
    db.session.flush()
    db.session.add(
        MaturityCallback(
            policy_id=policy.id,
            customer_id=customer.id,
            owner_id=customer.owner_id,
            maturity_date=local_today(),
            recorded_at=utcnow() if recorded_by else None,
            recorded_on=recorded_on,
            recorded_by_id=recorded_by.id if recorded_by else None,
        )
    )


def _busy_branch(world):
    """Alice: a full day, short of call-backs; Bob: a quiet one; Dave: deactivated; Carol:
    another branch, whose work must not show."""
    today = local_today()
    dave = make_staff("dave", Role.STAFF, world.east)
    dave.is_active_account = False
    customers = {
        s.username: [
            make_customer(s, f"{s.username}{i}", f"+86137{s.id:02d}{i:06d}") for i in range(6)
        ]
        for s in (world.alice, world.bob, world.carol, dave)
    }
    db.session.flush()
    for staff, mine in customers.items():
        for i, c in enumerate(mine):
            _experience(c, Touchpoint.VISIT, ExperienceStatus.PLANNED, today)
            if i % 2 == 0:
                _experience(c, Touchpoint.EVENT, ExperienceStatus.PLANNED, today - timedelta(3))
            _experience(c, Touchpoint.ROUTINE, ExperienceStatus.PLANNED, today)  # SMS: not listed
            _experience(c, Touchpoint.VISIT, ExperienceStatus.DONE, today.replace(day=1))
            _experience(c, Touchpoint.VISIT, ExperienceStatus.CANCELLED, today)
            if staff == "alice":
                c.churn_level = ChurnLevel.HIGH if i < 3 else ChurnLevel.LOW
                _callback(c, i, world.alice if i < 2 else None, today if i < 2 else None)
                opened = utcnow() - timedelta(days=9 if i < 2 else 1)
                db.session.add(
                    Complaint(
                        customer=c,
                        point="收益低",
                        opened_at=opened,
                        due_at=opened + timedelta(days=7),
                    )
                )
    customers["alice"][0].relationship_status = RelationshipStatus.LOST  # not a warning
    db.session.add(StaffSession(key_hash="a" * 64, staff_id=world.alice.id))
    db.session.commit()
    return today


def _direct(staff: Staff, today):
    """Each figure counted plainly from the rows, in Python."""
    owned = db.session.scalars(sa.select(Customer).where(Customer.owner_id == staff.id)).all()
    ids = {c.id for c in owned}
    exps = [e for e in db.session.scalars(sa.select(Experience)) if e.customer_id in ids]
    agenda = [
        e for e in exps if e.status == ExperienceStatus.PLANNED and e.category != Touchpoint.ROUTINE
    ]
    week_start, week_end, month_start, month_end = team.periods(today)
    counted = [
        e
        for e in exps
        if e.category != Touchpoint.ROUTINE and e.status != ExperienceStatus.CANCELLED
    ]
    in_month = [e for e in counted if month_start <= e.due_on <= month_end]
    in_week = [e for e in counted if week_start <= e.due_on <= week_end]
    complaints = [
        c
        for c in db.session.scalars(sa.select(Complaint))
        if c.customer_id in ids and c.answered_at is None
    ]
    return {
        "due_today": sum(e.due_on == today for e in agenda),
        "overdue": sum(e.due_on < today for e in agenda),
        "planned_week": len(in_week),
        "held_week": sum(e.status == ExperienceStatus.DONE for e in in_week),
        "planned_month": len(in_month),
        "held_month": sum(e.status == ExperienceStatus.DONE for e in in_month),
        "callbacks_today": sum(
            1
            for cb in db.session.scalars(sa.select(MaturityCallback))
            if cb.recorded_by_id == staff.id and cb.recorded_on == today
        ),
        "complaints_open": len(complaints),
        "complaints_overdue": sum(c.due_at < utcnow() for c in complaints),
        "high_churn": sum(
            c.churn_level == ChurnLevel.HIGH and c.relationship_status != RelationshipStatus.LOST
            for c in owned
        ),
    }


def test_each_staff_members_figures_match_direct_counts(world):
    today = _busy_branch(world)

    page = team.team(world.east.id, today)

    assert [r.username for r in page.rows] == ["alice", "bob", "manager"]  # active, this branch
    for row in page.rows:
        staff = db.session.get(Staff, row.id)
        expected = _direct(staff, today)
        assert {k: getattr(row, k) for k in expected} == expected, row.username
    alice = page.rows[0]
    assert (alice.due_today, alice.overdue, alice.callbacks_today) == (6, 3, 2)
    assert (alice.complaints_open, alice.complaints_overdue, alice.high_churn) == (6, 2, 2)
    assert alice.last_sign_in is not None and page.rows[1].last_sign_in is None


def test_the_daily_check_marks_who_is_short_of_the_quota(world, settings):
    settings(CRM_CALLBACK_DAILY_QUOTA=2)
    today = _busy_branch(world)

    page = team.team(world.east.id, today)

    by_name = {r.username: r for r in page.rows}
    assert by_name["alice"].short == 0  # two made, two asked
    assert by_name["bob"].short == 2
    assert by_name["manager"].short == 0  # the quota is relationship staff's
    assert page.short_count == 1


def test_the_page_costs_a_handful_of_statements_however_many_staff(world):
    _busy_branch(world)
    for n in range(20):
        make_staff(f"extra{n}", Role.STAFF, world.east)
    db.session.commit()
    seen: list[str] = []

    def count(*args):
        seen.append(args[2])

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        page = team.team(world.east.id)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert len(page.rows) == 23
    assert len(seen) <= 8
