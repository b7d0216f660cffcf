"""The plan obeys a running experiment: its holdout is planned none of the category's
cadence experiences, those already planned are cancelled, and after the stop the holdout
is planned again. Staff planning one by hand are warned, may go on, and it is counted."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import Customer, Experience
from crm.models.enums import ExperienceStatus, PlanOrigin, Quadrant, Touchpoint
from crm.models.experiment import Arm, ExperimentAssignment, ExperimentContamination
from crm.services.experiences import events, invitations, plans
from crm.services.experiments import analysis, design
from crm.services.planning import planner
from tests.services.experiences.event_helpers import data as event_data
from tests.services.experiments.helpers import START, customers_in, started


def planned(customer_ids, category: Touchpoint) -> set[int]:
    return set(
        db.session.scalars(
            sa.select(Experience.customer_id).where(
                Experience.customer_id.in_(customer_ids),
                Experience.category == category,
                Experience.status == ExperienceStatus.PLANNED,
                Experience.origin == PlanOrigin.CADENCE,
            )
        )
    )


def arms_of(experiment) -> dict[Arm, set[int]]:
    rows = db.session.execute(
        sa.select(ExperimentAssignment.arm, ExperimentAssignment.customer_id).where(
            ExperimentAssignment.experiment_id == experiment.id
        )
    )
    result: dict[Arm, set[int]] = {Arm.HOLDOUT: set(), Arm.TREATMENT: set()}
    for arm, customer_id in rows:
        result[arm].add(customer_id)
    return result


@pytest.mark.parametrize("category", [Touchpoint.VISIT, Touchpoint.ROUTINE])
def test_holdout_customers_get_no_cadence_plan_of_the_category(world, category):
    customers = customers_in(world.alice, Quadrant.MAINTAIN, 20)
    ids = [c.id for c in customers]
    db.session.commit()
    until = START + timedelta(days=120)
    # Planned before the experiment: everyone has visits and SMS planned.
    planner.plan_contacts(until, today=START)
    assert planned(ids, category) == set(ids)

    experiment = started(
        world.manager, category=category.value, quadrants="maintain", holdout_share="0.25"
    )
    arms = arms_of(experiment)
    held = arms[Arm.HOLDOUT] & set(ids)
    assert len(held) == 5
    # Starting cancelled what was planned of the category for the holdout…
    assert planned(ids, category) == set(ids) - held
    # …and the nightly planner plans them none, while the other categories go on.
    for day in range(0, 60, 7):
        planner.plan_contacts(until + timedelta(days=day), today=START + timedelta(days=day))
    assert planned(ids, category) == set(ids) - held
    other = Touchpoint.ROUTINE if category == Touchpoint.VISIT else Touchpoint.VISIT
    assert planned(ids, other) == set(ids)

    design.stop_experiment(world.manager, experiment, START + timedelta(days=60))
    db.session.commit()
    planner.plan_contacts(until + timedelta(days=60), today=START + timedelta(days=60))
    assert planned(ids, category) == set(ids)


def test_planning_by_hand_for_a_holdout_customer_warns_and_counts_a_contamination(world):
    customers_in(world.alice, Quadrant.DEVELOP, 8)
    db.session.commit()
    experiment = started(world.manager, holdout_share="0.5")
    held_id = next(iter(arms_of(experiment)[Arm.HOLDOUT]))
    customer = db.session.get(type(world.alice_customer), held_id)
    plan = {"category": "visit", "due_on": local_today() + timedelta(days=3), "planned_cost": ""}
    experiences = db.session.scalar(sa.select(sa.func.count()).select_from(Experience))

    with pytest.raises(plans.HeldOut) as warned:
        plans.add_experience(world.alice, customer, plan)
    assert experiment.name in str(warned.value.errors["holdout_confirmed"])
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Experience)) == experiences
    assert analysis.report(experiment, START).contamination == 0

    experience = plans.add_experience(world.alice, customer, {**plan, "holdout_confirmed": True})
    db.session.commit()
    assert experience.origin == PlanOrigin.STAFF
    row = db.session.scalars(sa.select(ExperimentContamination)).one()
    assert (row.customer_id, row.experience_id, row.staff_id) == (
        customer.id,
        experience.id,
        world.alice.id,
    )
    assert analysis.report(experiment, START).contamination == 1
    # A treated customer, or another category, is planned without a word.
    treated_id = next(iter(arms_of(experiment)[Arm.TREATMENT]))
    treated = db.session.get(type(customer), treated_id)
    plans.add_experience(world.alice, treated, plan)
    plans.add_experience(world.alice, customer, {**plan, "category": "routine"})
    db.session.commit()
    assert analysis.report(experiment, START).contamination == 1


def test_inviting_a_held_out_customer_to_an_event_counts_a_contamination(world):
    customers_in(world.alice, Quadrant.MAINTAIN, 6)
    db.session.commit()
    experiment = started(world.manager, category="event", quadrants="maintain", holdout_share="0.5")
    arms = arms_of(experiment)
    event = events.create_event(world.manager, event_data())
    for customer_id in sorted(arms[Arm.HOLDOUT])[:2] + sorted(arms[Arm.TREATMENT])[:2]:
        invitations.invite(world.manager, event, db.session.get(Customer, customer_id))
    db.session.commit()
    rows = db.session.scalars(sa.select(ExperimentContamination)).all()
    assert sorted(r.customer_id for r in rows) == sorted(arms[Arm.HOLDOUT])[:2]
    assert analysis.report(experiment, START).contamination == 2
