"""Next best experience after an experiment: a finished experiment's measured uplift per
yuan takes the place of the prior for its category and the customers it covered, and the
suggestion says so; one stopped before its horizon, or another branch's customer, does not."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from crm.core.clock import local_today
from crm.extensions import db
from crm.models.enums import MoveCause, Quadrant, Touchpoint
from crm.models.experiment import Arm, ExperimentAssignment
from crm.services.advice import effects, suggestions
from crm.services.customers import tiering
from crm.services.experiments import design
from tests.services.advice.test_suggestions import customer_in, held
from tests.support.factories import make_customer


@pytest.fixture(autouse=True)
def fresh_history(app):
    effects.forget()
    yield
    effects.forget()


def visits_experiment(world, stopped_after_days: int):
    """Visits withheld from half the east branch's maintain customers 40 days ago, over a
    30-day horizon; the treated customers had a ¥80 visit each and lost 5 points of
    willingness (a visit that does harm, so the measured uplift is negative)."""
    for i in range(6):
        customer_in(world, Quadrant.MAINTAIN, f"+86137000090{i:02d}", willingness=70 + i)
    started = local_today() - timedelta(days=40)
    experiment = design.create_experiment(
        world.manager,
        {
            "name": "拜访暂停试验",
            "category": "visit",
            "quadrants": "maintain",
            "branch_ids": [world.east.id],
            "holdout_share": "0.5",
            "metric": "willingness_change",
            "horizon_days": 30,
        },
    )
    design.start_experiment(world.manager, experiment, started)
    db.session.commit()
    treated = db.session.scalars(
        sa.select(ExperimentAssignment).where(
            ExperimentAssignment.experiment_id == experiment.id,
            ExperimentAssignment.arm == Arm.TREATMENT,
        )
    ).all()
    assert len(treated) == 3
    for assigned in treated:
        customer = db.session.get(tiering.Customer, assigned.customer_id)
        held(customer, Touchpoint.VISIT, 20, cost=Decimal("80.00"))
        customer.willingness -= 5
        db.session.commit()
    design.stop_experiment(world.manager, experiment, started + timedelta(days=stopped_after_days))
    db.session.commit()
    return experiment


def test_a_finished_experiment_replaces_the_prior_for_the_customers_it_covered(world, backend):
    experiment = visits_experiment(world, stopped_after_days=30)
    covered = customer_in(world, Quadrant.MAINTAIN, "+8613700009101")
    found = suggestions.for_customer(covered)
    by_category = {s.category: s for s in found}
    visit, event = by_category[Touchpoint.VISIT], by_category[Touchpoint.EVENT]
    # Measured: −5 points for ¥80 more per treated customer, −625 per ¥10,000.
    assert visit.measured is not None and visit.measured.experiment_id == experiment.id
    assert visit.measured.uplift == pytest.approx(-625)
    assert visit.per_yuan == pytest.approx(-0.0625)
    assert "拜访暂停试验" in visit.reason and "-625.00" in visit.reason
    # So the visit, first on the prior (30% for ¥80 against 38% for ¥150), falls behind.
    assert [s.category for s in found].index(Touchpoint.EVENT) < [s.category for s in found].index(
        Touchpoint.VISIT
    )
    assert event.measured is None and "拜访暂停试验" not in event.reason

    # A maintain customer of the other branch was not covered: the prior still speaks.
    other = make_customer(world.carol, "赵敏", "+8613700009102", willingness=70)
    other.liquid_assets = Decimal("100000")
    db.session.flush()
    tiering.place(other, MoveCause.IMPORT, None, first=True)
    db.session.commit()
    theirs = suggestions.for_customers([other])[other.id]
    assert [s.category for s in theirs][:2] == [Touchpoint.VISIT, Touchpoint.EVENT]
    assert all(s.measured is None for s in theirs)


def test_an_experiment_stopped_before_its_horizon_measured_nothing(world, backend):
    visits_experiment(world, stopped_after_days=10)
    customer = customer_in(world, Quadrant.MAINTAIN, "+8613700009201")
    found = suggestions.for_customer(customer)
    assert [s.category for s in found][:2] == [Touchpoint.VISIT, Touchpoint.EVENT]
    assert all(s.measured is None for s in found)
