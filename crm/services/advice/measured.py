"""What a finished experiment measured (实验实测效果), for the next-best-experience ranking.

The history's share of positive responses (``effects``) says which experiences were followed
by a good answer; a holdout experiment (``crm.services.experiments``) says what withholding a
category did, with an interval. Where one has finished (analysed, or stopped with its horizon
reached) and its report has an uplift per ¥10,000 (the treatment cost more than the holdout),
the ranking uses that uplift per yuan for the experiment's category and the customers it
covered (its quadrants and branches) in place of the Beta prior's expected share; the
suggestion names the experiment. An experiment stopped before its horizon measured nothing
that can be trusted, and is left out. Of several finished ones on the same cell, the latest
to finish speaks.

Reports are a few aggregates each, but the ranking runs for every row of the today page: they
are read once per business day per process, and again when an experiment stops or is
analysed (a count of the finished ones, with their versions, says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import current_app

from crm.core.clock import local_today
from crm.extensions import db
from crm.models.enums import Quadrant, Touchpoint
from crm.models.experiment import Experiment, ExperimentStatus, Metric
from crm.services.experiments import analysis, design

_CACHE_KEY = "crm.advice.measured"


@dataclass(frozen=True)
class Measured:
    """A finished experiment's uplift per ¥10,000 spent, and whom it covered."""

    experiment_id: int
    name: str
    metric: Metric
    finished_on: date
    branch_ids: frozenset[int]  # empty: every branch
    uplift: float  # per ¥10,000, in the metric's units
    low: float
    high: float

    @property
    def per_yuan(self) -> float:
        return self.uplift / float(analysis.PER_SPENT)

    def covers(self, branch_id: int | None) -> bool:
        return not self.branch_ids or branch_id in self.branch_ids


def finished_on(experiment: Experiment) -> date | None:
    """The day its horizon was reached, if it ran that long and is over; else None."""
    horizon = design.horizon_end(experiment)
    if horizon is None or experiment.status not in (
        ExperimentStatus.STOPPED,
        ExperimentStatus.ANALYSED,
    ):
        return None
    if experiment.stopped_on is not None and experiment.stopped_on < horizon:
        return None
    return horizon


def read(today: date) -> dict[tuple[Quadrant, Touchpoint], list[Measured]]:
    """Per quadrant and category, the finished experiments' uplifts, latest first."""
    table: dict[tuple[Quadrant, Touchpoint], list[Measured]] = {}
    done = db.session.scalars(
        sa.select(Experiment)
        .where(Experiment.status.in_((ExperimentStatus.STOPPED, ExperimentStatus.ANALYSED)))
        .order_by(Experiment.id)
    )
    for experiment in done:
        finished = finished_on(experiment)
        if finished is None or finished > today:
            continue
        figures = analysis.report(experiment, today).primary
        uplift = figures.uplift_per_10k if figures is not None else None
        if uplift is None:
            continue
        measured = Measured(
            experiment.id,
            experiment.name,
            Metric(experiment.metric),
            finished,
            frozenset(experiment.branch_ids or ()),
            uplift.estimate,
            uplift.low,
            uplift.high,
        )
        for quadrant in experiment.quadrant_keys:
            table.setdefault((quadrant, Touchpoint(experiment.category)), []).append(measured)
    for found in table.values():
        found.sort(key=lambda m: (m.finished_on, m.experiment_id), reverse=True)
    return table


def _signature() -> tuple:
    """What the finished experiments are, cheaply: a stop or an analysis changes it."""
    return tuple(
        db.session.execute(
            sa.select(
                sa.func.count(),
                sa.func.sum(Experiment.id + Experiment.version),
                # Each experiment's random key: a database emptied and refilled (as the tests
                # do) numbers them alike, but never draws the same keys.
                sa.func.max(Experiment.key),
            ).where(Experiment.status.in_((ExperimentStatus.STOPPED, ExperimentStatus.ANALYSED)))
        ).one()
    )


def measured(today: date | None = None) -> dict[tuple[Quadrant, Touchpoint], list[Measured]]:
    """The finished experiments' uplifts, read again only on a new day or when one more has
    finished (one small count says which)."""
    today = today or local_today()
    signature = (today, _signature())
    kept = current_app.extensions.get(_CACHE_KEY)
    if kept is not None and kept[0] == signature:
        return kept[1]
    table = read(today)
    current_app.extensions[_CACHE_KEY] = (signature, table)
    return table


def for_customer(
    table: dict[tuple[Quadrant, Touchpoint], list[Measured]],
    quadrant: Quadrant,
    category: Touchpoint,
    branch_id: int | None,
) -> Measured | None:
    """The latest finished experiment on this cell that covered the customer's branch."""
    for found in table.get((quadrant, category), ()):
        if found.covers(branch_id):
            return found
    return None


def forget() -> None:
    """Read the experiments afresh next time (one was analysed, or in tests)."""
    current_app.extensions.pop(_CACHE_KEY, None)
