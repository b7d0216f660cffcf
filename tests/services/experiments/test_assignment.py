"""Assignment: a keyed hash per (experiment, customer), balanced within every stratum,
recorded once, and given to customers who become eligible later."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import sqlalchemy as sa

from crm.extensions import db
from crm.models.enums import Quadrant, RelationshipStatus
from crm.models.experiment import Arm, ExperimentAssignment
from crm.services.experiments import assignment
from tests.services.experiments.helpers import START, customers_in, started


def arms(experiment) -> dict[int, Arm]:
    return dict(
        db.session.execute(
            sa.select(ExperimentAssignment.customer_id, ExperimentAssignment.arm).where(
                ExperimentAssignment.experiment_id == experiment.id
            )
        ).all()
    )


def test_each_stratum_holds_out_exactly_its_share(world):
    # Two quadrants in each of two branches: four strata of 20 customers.
    for owner in (world.alice, world.carol):
        for quadrant in (Quadrant.MAINTAIN, Quadrant.PAMPER):
            customers_in(owner, quadrant, 20)
    db.session.commit()
    experiment = started(world.manager, quadrants="maintain,pamper", holdout_share="0.25")

    strata = Counter(
        db.session.execute(
            sa.select(
                ExperimentAssignment.quadrant,
                ExperimentAssignment.branch_id,
                ExperimentAssignment.arm,
            ).where(ExperimentAssignment.experiment_id == experiment.id)
        ).all()
    )
    for branch in (world.east, world.west):
        for quadrant in (Quadrant.MAINTAIN, Quadrant.PAMPER):
            assert strata[(quadrant, branch.id, Arm.HOLDOUT)] == 5
            assert strata[(quadrant, branch.id, Arm.TREATMENT)] == 15
    assert assignment.arm_counts(experiment.id) == {Arm.TREATMENT: 60, Arm.HOLDOUT: 20}


def test_the_arm_is_the_keyed_hash_and_never_changes(world):
    customers_in(world.alice, Quadrant.MAINTAIN, 30)  # one stratum
    db.session.commit()
    experiment = started(world.manager, quadrants="maintain")
    before = arms(experiment)
    # Within the stratum the holdout is the customers with the lowest hash.
    ranked = sorted(before, key=lambda c: assignment.arm_fraction(experiment.key, experiment.id, c))
    held = [c for c in ranked if before[c] == Arm.HOLDOUT]
    assert held == ranked[: len(held)]

    # A later run assigns nobody twice and moves nobody, even if the customer changed.
    customer_id = next(iter(before))
    db.session.execute(
        sa.text("UPDATE customer SET quadrant = 'pamper' WHERE id = :id"), {"id": customer_id}
    )
    assert assignment.assign_newcomers(START + timedelta(days=1)) == 0
    db.session.commit()
    assert arms(experiment) == before


def test_a_customer_who_becomes_eligible_later_is_assigned_as_they_appear(world):
    customers_in(world.alice, Quadrant.DEVELOP, 10)
    db.session.commit()
    experiment = started(world.manager, holdout_share="0.5")
    lost, *_ = customers_in(world.alice, Quadrant.DEVELOP, 1, first=100)
    lost.relationship_status = RelationshipStatus.LOST
    newcomers = customers_in(world.alice, Quadrant.DEVELOP, 40, first=200)
    elsewhere = customers_in(world.alice, Quadrant.PAMPER, 3, first=300)
    db.session.commit()

    assert assignment.assign_newcomers(START + timedelta(days=3)) == 40
    db.session.commit()
    recorded = arms(experiment)
    for customer in newcomers:
        fraction = assignment.arm_fraction(experiment.key, experiment.id, customer.id)
        assert recorded[customer.id] == (Arm.HOLDOUT if fraction < 0.5 else Arm.TREATMENT)
    assert lost.id not in recorded
    assert not {c.id for c in elsewhere} & set(recorded)
    # Roughly half of the newcomers (the hash is uniform), not all in one arm.
    assert 8 <= sum(recorded[c.id] == Arm.HOLDOUT for c in newcomers) <= 32
    row = db.session.get(ExperimentAssignment, (experiment.id, newcomers[0].id))
    assert row.assigned_on == START + timedelta(days=3)
