"""Who a running experiment holds back (对照组): the planner plans them none of its category.

The experiments themselves (design, assignment, report) live in ``crm.services.experiments``,
above every feature that plans; what planning needs is only whether a customer is held out of
a category today, read here straight from the tables.
"""

from __future__ import annotations

import sqlalchemy as sa

from crm.extensions import db
from crm.models.enums import Touchpoint
from crm.models.experiment import (
    Arm,
    Experiment,
    ExperimentAssignment,
    ExperimentContamination,
    ExperimentStatus,
)


def held_out(category, customer_id) -> sa.ColumnElement[bool]:
    """SQL: the customer (``customer_id``, a column) is in the holdout of a running experiment
    on ``category`` (a value or a column)."""
    return (
        sa.select(ExperimentAssignment.customer_id)
        .join(Experiment, Experiment.id == ExperimentAssignment.experiment_id)
        .where(
            ExperimentAssignment.customer_id == customer_id,
            ExperimentAssignment.arm == Arm.HOLDOUT,
            Experiment.status == ExperimentStatus.RUNNING,
            Experiment.category == category,
        )
        # The customer and the experience it is asked for belong to the enclosing query.
        .correlate_except(ExperimentAssignment, Experiment)
        .exists()
    )


def holdout_experiment(customer_id: int, category: Touchpoint) -> Experiment | None:
    """The running experiment that holds this customer out of ``category``, if any."""
    return db.session.scalars(
        sa.select(Experiment)
        .join(ExperimentAssignment, ExperimentAssignment.experiment_id == Experiment.id)
        .where(
            ExperimentAssignment.customer_id == customer_id,
            ExperimentAssignment.arm == Arm.HOLDOUT,
            Experiment.status == ExperimentStatus.RUNNING,
            Experiment.category == category,
        )
        .order_by(Experiment.id)
        .limit(1)
    ).first()


def record_contamination(
    experiment: Experiment, customer_id: int, experience_id: int | None, staff_id: int | None
) -> None:
    """A staff member planned the withheld category for a holdout customer after the warning:
    the report counts it (no commit)."""
    db.session.add(
        ExperimentContamination(
            experiment_id=experiment.id,
            customer_id=customer_id,
            experience_id=experience_id,
            staff_id=staff_id,
        )
    )
