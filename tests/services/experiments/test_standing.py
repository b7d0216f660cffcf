"""Where each experiment customer stands today (migration 0027): kept on the assignment by the
database as the dossier changes, whoever writes, and always equal to the customer's row; the
report's willingness and lost figures read it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import Customer, Experience
from crm.models.enums import LostReason, Quadrant
from crm.models.experiment import ExperimentAssignment, Metric
from crm.services.customers import willingness
from crm.services.experiments import analysis, design, outcomes
from crm.services.retention import status
from tests.services.experiments.helpers import (
    START,
    StartBehind,
    customers_in,
    design_of,
    held_visit,
    started,
)


def _kept(experiment) -> dict[int, tuple]:
    a = ExperimentAssignment
    return {
        customer_id: tuple(rest)
        for customer_id, *rest in db.session.execute(
            sa.select(a.customer_id, a.quadrant_now, a.willingness_now, a.lost_on).where(
                a.experiment_id == experiment.id
            )
        )
    }


def _dossiers(experiment) -> dict[int, tuple]:
    """What the customers' own rows say: the lost day only while they are lost."""
    a = ExperimentAssignment
    return {
        customer_id: tuple(rest)
        for customer_id, *rest in db.session.execute(
            sa.select(
                Customer.id,
                Customer.quadrant,
                Customer.willingness,
                outcomes.lost_day(Customer),
            )
            .join(a, a.customer_id == Customer.id)
            .where(a.experiment_id == experiment.id)
        )
    }


def _agrees(experiment) -> dict[int, tuple]:
    db.session.expire_all()
    kept = _kept(experiment)
    assert kept == _dossiers(experiment)
    return kept


def test_where_each_customer_stands_follows_every_change_to_the_dossier(world):
    a, b, c, d = customers_in(world.alice, Quadrant.DEVELOP, 4)
    db.session.commit()
    experiment = started(world.manager, holdout_share="0.5")
    assert _agrees(experiment)[a.id] == (Quadrant.DEVELOP, a.willingness, None)

    # A staff member reassesses a's willingness; b moves quadrant; c is lost, then d is lost
    # and won back; a bulk update (as a re-tiering writes) moves everyone of the four.
    a_before = a.willingness
    willingness.reassess_willingness(world.alice, a, 55, "面谈后重新评估", a.version)
    db.session.commit()
    b.quadrant = Quadrant.MAINTAIN
    db.session.commit()
    lost = {"relationship_status": "lost", "lost_reason": LostReason.ASSETS_MOVED.value}
    lost_on = local_today()  # within the window, and not before the dossiers were opened
    for customer in (c, d):
        status.set_relationship_status(
            world.alice, customer, lost | {"lost_on": lost_on.isoformat()}, customer.version
        )
        db.session.commit()
    kept = _agrees(experiment)
    assert kept[a.id][1] == 55
    assert kept[b.id][0] == Quadrant.MAINTAIN
    assert kept[c.id][2] == kept[d.id][2] == lost_on
    status.set_relationship_status(world.alice, d, {"relationship_status": "active"}, d.version)
    db.session.commit()
    assert _agrees(experiment)[d.id][2] is None
    db.session.execute(
        sa.update(Customer)
        .where(Customer.id.in_([a.id, b.id, c.id, d.id]))
        .values(quadrant=Quadrant.CULTIVATE, willingness=Customer.willingness + 1)
    )
    db.session.commit()
    kept = _agrees(experiment)
    assert {kept[x.id][0] for x in (a, b, c, d)} == {Quadrant.CULTIVATE}
    assert kept[a.id][1] == 56

    # The report's figures are these: a gained 56 less its willingness at assignment, b, c
    # and d one point each; c was lost within the window, d was won back and is not counted.
    report = analysis.report(experiment, START + timedelta(days=90))
    assert report.horizon_reached
    figures = {x.metric: x for x in [report.primary, *report.secondary]}

    def total(metric: Metric) -> float:
        arms = (figures[metric].treatment, figures[metric].holdout)
        return sum(arm.mean * arm.customers for arm in arms)

    assert round(total(Metric.LOST)) == 1
    assert round(total(Metric.WILLINGNESS_CHANGE)) == 56 - a_before + 3


def _drafted(world):
    """One develop customer and a drafted experiment over them, committed."""
    (customer,) = customers_in(world.alice, Quadrant.DEVELOP, 1, first=20)
    experiment = design.create_experiment(world.manager, design_of(holdout_share="0.5"))
    db.session.commit()
    return customer.id, experiment.id, customer.willingness


def _change_willingness(connection, customer_id: int, willingness: int) -> None:
    table = Customer.__table__
    connection.execute(
        sa.update(table).where(table.c.id == customer_id).values(willingness=willingness)
    )


def test_a_dossier_change_written_while_an_experiment_starts_is_kept(world, app):
    """A staff member's change to a dossier is being written when a manager starts an
    experiment over the customer: the start waits for it and copies what it wrote, rather
    than copying the row from before it and missing it."""
    customer_id, experiment_id, before = _drafted(world)
    start = StartBehind(app, experiment_id)
    with db.engine.connect() as editing:
        transaction = editing.begin()
        _change_willingness(editing, customer_id, before + 7)
        assert start.begin()  # held until the change is written
        transaction.commit()
        start.finish()

    experiment = design.get_experiment(experiment_id)
    assert _agrees(experiment)[customer_id][1] == before + 7


def test_a_start_and_a_save_that_writes_a_dossier_then_its_experiences_both_go_through(world, app):
    """A save that changes a dossier and then writes an experience (as a replan does) while
    a manager starts an experiment: neither is refused as a deadlock, and the start copies
    and counts what the save wrote."""
    customer_id, experiment_id, before = _drafted(world)
    start = StartBehind(app, experiment_id)
    with db.engine.connect() as saving:
        transaction = saving.begin()
        _change_willingness(saving, customer_id, before + 3)
        assert start.begin()  # held until the save is written
        visit = held_visit(customer_id, "250.00", world.alice.created_at)
        saving.execute(sa.insert(Experience.__table__).values(**visit))
        transaction.commit()
        start.finish()  # raises a deadlock, had the start caught one

    db.session.expire_all()
    row = db.session.get(ExperimentAssignment, (experiment_id, customer_id))
    assert (row.willingness_now, row.spent) == (before + 3, Decimal("250.00"))
