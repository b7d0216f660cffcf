"""Each experience's staff member, kept by the database (migration 0025): the customer's
owner while it is planned, whoever owned the customer when it was held, however the rows
are written."""

from __future__ import annotations

import threading
from datetime import timedelta

import sqlalchemy as sa

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import Customer, Experience
from crm.models.enums import ExperienceStatus, PlanOrigin, Touchpoint
from crm.services.management import handover, team
from tests.services.management.test_team import _experience
from tests.support.factories import make_customer

STATUSES = (
    ExperienceStatus.PLANNED,
    ExperienceStatus.DONE,
    ExperienceStatus.NO_SHOW,
    ExperienceStatus.CANCELLED,
)


def _owners(customer) -> dict[ExperienceStatus, int | None]:
    return dict(
        db.session.execute(
            sa.select(Experience.status, Experience.owner_id).where(
                Experience.customer_id == customer.id
            )
        ).all()
    )


def _one_of_each(customer):
    for status in STATUSES:
        _experience(customer, Touchpoint.VISIT, status, local_today())
    db.session.commit()


def test_an_experience_written_without_its_staff_member_takes_the_customers_owner(world):
    _experience(world.alice_customer, Touchpoint.VISIT, ExperienceStatus.PLANNED, local_today())
    db.session.execute(  # as a bulk writer that names no owner would
        sa.insert(Experience.__table__).values(
            customer_id=world.bob_customer.id,
            category=Touchpoint.EVENT.value,
            status=ExperienceStatus.PLANNED.value,
            origin=PlanOrigin.STAFF.value,
            due_on=local_today(),
            planned_cost=0,
            created_at=world.alice.created_at,
            version=1,
        )
    )
    db.session.commit()

    assert _owners(world.alice_customer) == {ExperienceStatus.PLANNED: world.alice.id}
    assert _owners(world.bob_customer) == {ExperienceStatus.PLANNED: world.bob.id}
    experience = db.session.scalars(
        sa.select(Experience).where(Experience.customer_id == world.alice_customer.id)
    ).one()
    assert experience.owner_id == world.alice.id  # the ORM reads what the database set


def test_a_new_owner_takes_the_planned_experiences_and_the_held_ones_stay(world):
    _one_of_each(world.alice_customer)

    world.alice_customer.owner_id = world.bob.id
    db.session.commit()

    assert _owners(world.alice_customer) == {
        ExperienceStatus.PLANNED: world.bob.id,
        ExperienceStatus.DONE: world.alice.id,
        ExperienceStatus.NO_SHOW: world.alice.id,
        ExperienceStatus.CANCELLED: world.alice.id,
    }


def test_an_experience_planned_again_takes_the_owner_of_the_day(world):
    _one_of_each(world.alice_customer)
    world.alice_customer.owner_id = world.bob.id
    db.session.commit()
    cancelled = db.session.scalars(
        sa.select(Experience).where(
            Experience.customer_id == world.alice_customer.id,
            Experience.status == ExperienceStatus.CANCELLED,
        )
    ).one()

    cancelled.status = ExperienceStatus.PLANNED  # an invitation taken back
    db.session.commit()

    db.session.refresh(cancelled)
    assert cancelled.owner_id == world.bob.id


def test_after_a_handover_the_team_page_counts_the_open_work_for_the_receiver_only(world):
    today = local_today().replace(day=15)  # the overdue ones in the same month
    for customer in (world.alice_customer, *_more_of_alices(world, 2)):
        _experience(customer, Touchpoint.VISIT, ExperienceStatus.PLANNED, today)
        _experience(customer, Touchpoint.EVENT, ExperienceStatus.PLANNED, today - timedelta(2))
        _experience(customer, Touchpoint.VISIT, ExperienceStatus.DONE, today)
    db.session.commit()
    before = {r.username: r for r in team.team(world.east.id, today).rows}

    handover.hand_over(world.manager, world.alice, world.bob)
    db.session.commit()

    after = {r.username: r for r in team.team(world.east.id, today).rows}
    alice, bob = after["alice"], after["bob"]
    assert (before["alice"].due_today, before["alice"].overdue) == (3, 3)
    assert (alice.due_today, alice.overdue, bob.due_today, bob.overdue) == (0, 0, 3, 3)
    # The visits alice held stay hers; bob's month holds only what is now his to hold.
    assert (alice.held_month, alice.planned_month) == (3, 3)
    assert (bob.held_month, bob.planned_month) == (0, 6)


def test_a_save_that_keeps_the_owner_moves_nothing(world):
    _one_of_each(world.alice_customer)
    db.session.execute(
        sa.update(Customer)
        .where(Customer.id == world.alice_customer.id)
        .values(owner_id=world.alice.id)
    )
    db.session.commit()

    assert set(_owners(world.alice_customer).values()) == {world.alice.id}


def _more_of_alices(world, n):
    customers = [make_customer(world.alice, f"阿{i}", f"+8613811{i:06d}") for i in range(n)]
    db.session.flush()
    return customers


def test_an_experience_planned_during_a_change_of_owner_goes_to_the_new_owner(world):
    """The change of owner is under way when another connection plans an experience for the
    customer: the plan waits for it, and the experience is the new owner's."""
    customer_id, bob_id, created = world.alice_customer.id, world.bob.id, world.alice.created_at
    today = local_today()
    db.session.commit()
    planned = threading.Event()
    engine = db.engine  # the thread has no application context

    def plan() -> None:
        with engine.begin() as conn:
            conn.execute(
                sa.insert(Experience.__table__).values(
                    customer_id=customer_id,
                    category=Touchpoint.VISIT.value,
                    status=ExperienceStatus.PLANNED.value,
                    origin=PlanOrigin.STAFF.value,
                    due_on=today,
                    planned_cost=0,
                    created_at=created,
                    version=1,
                )
            )
        planned.set()

    with engine.connect() as changing:
        transaction = changing.begin()
        changing.execute(
            sa.update(Customer).where(Customer.id == customer_id).values(owner_id=bob_id)
        )
        planner = threading.Thread(target=plan)
        planner.start()
        assert not planned.wait(0.5)  # held until the change of owner ends
        transaction.commit()
        planner.join(timeout=30)
    assert planned.is_set()

    assert _owners(world.alice_customer) == {ExperienceStatus.PLANNED: bob_id}
