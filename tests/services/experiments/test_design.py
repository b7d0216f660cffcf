"""The design: every bad input refused with a message and nothing written; locked once it
runs; two running experiments on the same category and customers refused; stopping early
recorded and reported as such."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import AuditLog
from crm.models.enums import Quadrant
from crm.models.experiment import Experiment, ExperimentAssignment, ExperimentStatus
from crm.services.experiments import analysis, design
from tests.services.experiments.helpers import START, customers_in, design_of, started


def written() -> tuple[int, int, int]:
    return tuple(
        db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Experiment, ExperimentAssignment, AuditLog)
    )


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"holdout_share": "0.04"}, "holdout_share"),
        ({"holdout_share": "0.51"}, "holdout_share"),
        ({"holdout_share": "60%"}, "holdout_share"),
        ({"holdout_share": "a fifth"}, "holdout_share"),
        ({"quadrants": ""}, "quadrants"),
        ({"quadrants": "develop,platinum"}, "quadrants"),
        ({"branch_ids": "99999"}, "branch_ids"),
        ({"horizon_days": "0"}, "horizon_days"),
        ({"horizon_days": "-30"}, "horizon_days"),
        ({"horizon_days": "ninety"}, "horizon_days"),
        ({"metric": "clicks"}, "metric"),
        ({"metric": ""}, "metric"),
        ({"category": "skydiving"}, "category"),
        ({"name": "  "}, "name"),
    ],
)
def test_a_bad_design_is_refused_with_a_message_and_nothing_written(world, changes, field):
    before = written()
    with pytest.raises(InvalidInput) as refused:
        design.create_experiment(world.manager, design_of(**changes))
    assert str(refused.value.errors[field])
    db.session.rollback()
    assert written() == before


def test_a_share_may_be_given_as_a_percentage(world):
    experiment = design.create_experiment(world.manager, design_of(holdout_share="25%"))
    assert str(experiment.holdout_share) == "0.25"


def test_the_design_is_locked_once_it_runs(world):
    experiment = started(world.manager)
    before = written()
    with pytest.raises(InvalidInput):
        design.update_design(
            world.manager, experiment, design_of(holdout_share="0.5"), experiment.version
        )
    with pytest.raises(InvalidInput):
        design.start_experiment(world.manager, experiment, START)
    db.session.rollback()
    assert written() == before
    assert db.session.get(Experiment, experiment.id).holdout_share == experiment.holdout_share


def test_a_draft_may_still_be_changed(world):
    experiment = design.create_experiment(world.manager, design_of())
    design.update_design(world.manager, experiment, design_of(horizon_days="60"), 1)
    assert experiment.horizon_days == 60


def test_two_running_experiments_on_the_same_category_and_customers_are_refused(world):
    customers_in(world.alice, Quadrant.DEVELOP, 5)
    customers_in(world.alice, Quadrant.PAMPER, 2)
    first = started(world.manager, quadrants="develop,maintain")
    second = design.create_experiment(world.manager, design_of(quadrants="develop"))
    db.session.commit()
    before = written()
    with pytest.raises(InvalidInput) as refused:
        design.start_experiment(world.manager, second, START)
    assert first.name in str(refused.value.errors["status"])
    db.session.rollback()
    assert written() == before
    assert db.session.get(Experiment, second.id).status == ExperimentStatus.DRAFT
    # Another category, or other quadrants, may run beside it.
    started(world.manager, category="event")
    started(world.manager, quadrants="pamper")
    # Once the first has stopped, the second may start.
    design.stop_experiment(world.manager, first, START + timedelta(days=5))
    assert design.start_experiment(world.manager, second, START + timedelta(days=5)) > 0


def test_stopping_early_is_recorded_and_the_report_says_the_horizon_was_not_reached(world):
    customers_in(world.alice, Quadrant.DEVELOP, 10)
    experiment = started(world.manager)
    running = analysis.report(experiment, START + timedelta(days=30))
    assert running.peeking and running.primary is None
    assert sum(running.counts.values()) == 13  # and the world fixture's three customers

    design.stop_experiment(world.manager, experiment, START + timedelta(days=30))
    db.session.commit()
    assert experiment.stopped_on == START + timedelta(days=30)
    report = analysis.report(experiment, START + timedelta(days=200))
    assert report.stopped_early and not report.horizon_reached
    assert report.window_end == START + timedelta(days=30)
    assert report.primary is not None
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(
                AuditLog.entity == "experiment", AuditLog.entity_id == experiment.id
            )
        )
        >= 3
    )

    design.mark_analysed(world.manager, experiment)
    assert experiment.status == ExperimentStatus.ANALYSED
    with pytest.raises(InvalidInput):
        design.stop_experiment(world.manager, experiment)


def test_starting_an_experiment_whose_scope_holds_nobody_is_refused(world):
    experiment = design.create_experiment(world.manager, design_of(quadrants="pamper"))
    db.session.commit()
    before = written()
    with pytest.raises(InvalidInput) as refused:
        design.start_experiment(world.manager, experiment, START)
    assert str(refused.value.errors["quadrants"])
    db.session.rollback()
    assert written() == before
    assert db.session.get(Experiment, experiment.id).status == ExperimentStatus.DRAFT
