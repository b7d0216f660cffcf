"""Handover (客户移交): exactly the chosen customers move, with their open work and nothing
else, audited and notified; every refusal moves nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from crm.core.clock import local_today
from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import (
    AuditLog,
    Complaint,
    Customer,
    Experience,
    MaturityCallback,
    Notification,
    Staff,
)
from crm.models.base import utcnow
from crm.models.enums import (
    ChurnLevel,
    ExperienceStatus,
    NotificationKind,
    Quadrant,
    Role,
    SalesStage,
    Touchpoint,
)
from crm.services.management import handover
from crm.services.management.handover import Selection
from tests.services.management.test_team import _callback, _experience
from tests.services.sales.test_pipeline import add
from tests.support.factories import make_customer, make_staff


@pytest.fixture
def book(world):
    """Alice's six customers (two in pamper, two at high churn risk), each with a planned
    visit, a held one, an open call-back, an open complaint and an answered one."""
    today = local_today()
    world.alice_customer.owner = world.manager  # Alice's book is these six alone
    mine = [
        make_customer(
            world.alice,
            f"客户{i}",
            f"+8613712{i:05d}",
            quadrant=Quadrant.PAMPER if i < 2 else Quadrant.DEVELOP,
            churn_level=ChurnLevel.HIGH if i in (1, 2) else None,
        )
        for i in range(6)
    ]
    db.session.flush()
    for i, c in enumerate(mine):
        _experience(c, Touchpoint.VISIT, ExperienceStatus.PLANNED, today + timedelta(3))
        _experience(c, Touchpoint.VISIT, ExperienceStatus.DONE, today - timedelta(3))
        _callback(c, i)
        _callback(c, 100 + i, world.alice, today)  # recorded: stays Alice's record
        now = utcnow()
        db.session.add(Complaint(customer=c, point="慢", opened_at=now, due_at=now + timedelta(7)))
        db.session.add(
            Complaint(customer=c, point="已答", opened_at=now, due_at=now, answered_at=now)
        )
    db.session.commit()
    return [c.id for c in mine]


def _owners() -> dict[int, int]:
    return dict(db.session.execute(sa.select(Customer.id, Customer.owner_id)).all())


def _callback_owners() -> dict[int, tuple[int, bool]]:
    rows = db.session.execute(
        sa.select(MaturityCallback.id, MaturityCallback.owner_id, MaturityCallback.recorded_at)
    )
    return {i: (owner, recorded is not None) for i, owner, recorded in rows}


def test_all_of_a_leavers_customers_move_with_their_open_work(world, book):
    before = _owners()
    result = handover.hand_over(world.manager, world.alice, world.bob)
    db.session.commit()

    after = _owners()
    moved = {i for i in after if after[i] != before[i]}
    assert moved == set(book)
    assert all(after[i] == world.bob.id for i in book)
    assert (result.customers, result.planned_experiences) == (6, 6)
    assert (result.open_callbacks, result.open_complaints) == (6, 6)
    # Open call-backs are Bob's now; the recorded ones stay as Alice recorded them.
    for owner, recorded in _callback_owners().values():
        assert owner == (world.alice.id if recorded else world.bob.id)
    # The agenda and complaints follow the customer's owner.
    bobs = sa.select(Customer.id).where(Customer.owner_id == world.bob.id)
    planned = sa.select(sa.func.count()).where(
        Experience.customer_id.in_(bobs), Experience.status == ExperienceStatus.PLANNED
    )
    assert db.session.scalar(planned) == 6
    # One audit row per customer, and one for the handover.
    rows = db.session.scalars(sa.select(AuditLog).where(AuditLog.field == "owner_id")).all()
    per_customer = [r for r in rows if r.entity == "customer"]
    assert sorted(r.customer_id for r in per_customer) == sorted(book)
    assert {(r.old_value, r.new_value, r.actor_id) for r in per_customer} == {
        (str(world.alice.id), str(world.bob.id), world.manager.id)
    }
    assert len([r for r in rows if r.entity == "handover"]) == 1
    # Both are told; the dossiers' versions moved, so an editor who loaded them is refused.
    told = db.session.scalars(
        sa.select(Notification.staff_id).where(Notification.kind == NotificationKind.HANDOVER)
    ).all()
    assert sorted(told) == sorted([world.alice.id, world.bob.id])
    assert {db.session.get(Customer, i).version for i in book} == {2}


def test_a_filtered_selection_moves_only_those_customers(world, book):
    before = _owners()
    result = handover.hand_over(
        world.manager, world.alice, world.bob, Selection(quadrant=Quadrant.PAMPER)
    )
    db.session.commit()
    after = _owners()
    assert {i for i in after if after[i] != before[i]} == set(book[:2])
    assert result.open_callbacks == 2
    open_bob = db.session.scalars(
        sa.select(MaturityCallback.customer_id).where(
            MaturityCallback.owner_id == world.bob.id, MaturityCallback.recorded_at.is_(None)
        )
    ).all()
    assert sorted(open_bob) == sorted(book[:2])

    handover.hand_over(world.admin, world.alice, world.bob, Selection(churn=ChurnLevel.HIGH))
    handover.hand_over(world.admin, world.alice, world.bob, Selection(customer_ids=(book[5],)))
    db.session.commit()
    after = _owners()
    assert {i for i in book if after[i] == world.bob.id} == {book[0], book[1], book[2], book[5]}


def test_the_leaver_can_be_deactivated_in_the_same_step(world, book):
    result = handover.hand_over(world.manager, world.alice, world.bob, deactivate=True)
    db.session.commit()
    assert result.deactivated
    assert db.session.get(Staff, world.alice.id).is_active_account is False


def _nothing_moved(book, alice_id):
    db.session.rollback()
    owners = _owners()
    assert all(owners[i] == alice_id for i in book)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0
    assert all(owner == alice_id for owner, _recorded in _callback_owners().values())


@pytest.mark.parametrize(
    "case",
    [
        "deactivated",
        "other branch",
        "themselves",
        "unseen customer",
        "staff actor",
        "partial deactivate",
        "nothing matches",
    ],
)
def test_each_refusal_moves_nothing(world, book, case):
    actor, giver, receiver = world.manager, world.alice, world.bob
    selection, deactivate = Selection(), False
    if case == "deactivated":
        receiver.is_active_account = False
        db.session.commit()
    elif case == "other branch":
        receiver = world.carol
    elif case == "themselves":
        receiver = world.alice
    elif case == "unseen customer":
        selection = Selection(customer_ids=(book[0], world.carol_customer.id))
    elif case == "staff actor":
        actor = world.bob
    elif case == "partial deactivate":
        selection, deactivate = Selection(quadrant=Quadrant.PAMPER), True
    elif case == "nothing matches":
        selection = Selection(quadrant=Quadrant.CULTIVATE)
    with pytest.raises(InvalidInput):
        handover.hand_over(actor, giver, receiver, selection, deactivate)
    _nothing_moved(book, world.alice.id)


def test_an_admin_moves_customers_across_branches_with_their_branch(world, book):
    handover.hand_over(world.admin, world.alice, world.carol, Selection(customer_ids=(book[0],)))
    db.session.commit()
    customer = db.session.get(Customer, book[0])
    assert (customer.owner_id, customer.branch_id) == (world.carol.id, world.west.id)
    fields = db.session.scalars(
        sa.select(AuditLog.field).where(AuditLog.customer_id == book[0])
    ).all()
    assert sorted(fields) == ["branch_id", "owner_id"]


def test_customer_numbers_are_read_leniently_and_refused_clearly():
    assert handover.parse_customer_ids("12, 57，#3、12") == (12, 57, 3)
    with pytest.raises(InvalidInput):
        handover.parse_customer_ids("12; abc")


def test_a_manager_sees_their_branchs_staff_only(world):
    extra = make_staff("erin", Role.STAFF, world.west)
    db.session.commit()
    names = {s.username for s in handover.staff_choices(world.manager)}
    assert "carol" not in names and extra.username not in names and "alice" in names


def test_open_opportunities_follow_the_customer_and_closed_ones_stay_credited(world, book):
    first = db.session.get(Customer, book[0])
    open_one = add(first, SalesStage.PROPOSAL, "50000")
    won = add(first, SalesStage.WON, "80000", days=10)
    db.session.commit()

    result = handover.hand_over(world.manager, world.alice, world.bob)
    db.session.commit()

    assert result.open_opportunities == 1
    assert "进行中商机 1 条" in result.summary()
    db.session.expire_all()
    assert (open_one.owner_id, open_one.version) == (world.bob.id, 2)
    assert won.owner_id == world.alice.id  # the sale stays Alice's in the ranking
