"""The report of an experiment (实验报告): the arms, their balance, the primary metric's
difference with a 95% interval, its cost, and the secondary metrics marked as such.

The difference is treatment − holdout: what the withheld touchpoint policy does. A share
(upward move, policy bought, lost) is compared by the Wald interval of a difference of two
proportions (statsmodels ``confint_proportions_2indep``); a mean (willingness change,
premium) by Welch's t interval, which does not assume the arms vary alike. Uplift per
¥10,000 divides the difference and its interval by how much more was spent per treated
customer than per held-out one. Before the horizon the report gives only the counts: read
early and often, a 95% interval misleads far more than one time in twenty (peeking).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from crm.core.clock import local_today
from crm.extensions import db
from crm.models.experiment import (
    Arm,
    Experiment,
    ExperimentContamination,
    ExperimentStatus,
    Metric,
)
from crm.services.experiments import assignment, design, outcomes
from crm.services.experiments.outcomes import BINARY, ArmTotals

CONFIDENCE = 0.95
PER_SPENT = Decimal("10000")
WALD = "wald"
WELCH = "welch"

__all__ = ["ArmTotals", "BINARY", "compare", "report"]


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float
    method: str  # WALD or WELCH: the page names it in the reader's language

    def covers(self, value: float) -> bool:
        return self.low <= value <= self.high


@dataclass(frozen=True)
class ArmFigures:
    arm: Arm
    customers: int
    mean: float | None  # the share for a yes/no metric
    cost: Decimal
    cost_per_customer: Decimal | None


@dataclass(frozen=True)
class BalanceRow:
    covariate: str  # "quadrant:develop", "liquid_assets", "willingness", "age"
    treatment: float | None
    holdout: float | None
    standardised_difference: float | None


@dataclass(frozen=True)
class MetricFigures:
    metric: Metric
    secondary: bool
    treatment: ArmFigures
    holdout: ArmFigures
    difference: Interval | None  # treatment − holdout
    uplift_per_10k: Interval | None  # the difference per ¥10,000 more spent per customer


@dataclass(frozen=True)
class Report:
    experiment_id: int
    status: ExperimentStatus
    metric: Metric
    started_on: date | None
    window_end: date | None
    horizon_end: date | None
    horizon_reached: bool
    stopped_early: bool
    counts: dict[Arm, int]
    contamination: int
    balance: list[BalanceRow] = field(default_factory=list)
    primary: MetricFigures | None = None
    secondary: list[MetricFigures] = field(default_factory=list)

    @property
    def peeking(self) -> bool:
        """Only the counts are shown: the horizon is still ahead."""
        return self.primary is None


def _mean_and_variance(totals: ArmTotals) -> tuple[float | None, float | None]:
    n = totals.customers
    if n == 0:
        return None, None
    mean = totals.outcome_sum / n
    if n < 2:
        return mean, None
    variance = max((totals.outcome_squares - n * mean * mean) / (n - 1), 0.0)
    return mean, variance


def _wald(treatment: ArmTotals, holdout: ArmTotals) -> Interval | None:
    from statsmodels.stats.proportion import confint_proportions_2indep

    if treatment.customers == 0 or holdout.customers == 0:
        return None
    estimate = treatment.outcome_sum / treatment.customers - holdout.outcome_sum / holdout.customers
    low, high = confint_proportions_2indep(
        round(treatment.outcome_sum),
        treatment.customers,
        round(holdout.outcome_sum),
        holdout.customers,
        method="wald",
        compare="diff",
        alpha=1 - CONFIDENCE,
    )
    return Interval(estimate, float(low), float(high), WALD)


def _welch(treatment: ArmTotals, holdout: ArmTotals) -> Interval | None:
    from scipy import stats

    mean_t, var_t = _mean_and_variance(treatment)
    mean_h, var_h = _mean_and_variance(holdout)
    if var_t is None or var_h is None:
        return None
    estimate = mean_t - mean_h
    a, b = var_t / treatment.customers, var_h / holdout.customers
    if a + b == 0:
        return Interval(estimate, estimate, estimate, WELCH)
    # Welch–Satterthwaite degrees of freedom.
    dof = (a + b) ** 2 / (a * a / (treatment.customers - 1) + b * b / (holdout.customers - 1))
    low, high = stats.t.interval(CONFIDENCE, dof, loc=estimate, scale=math.sqrt(a + b))
    return Interval(estimate, float(low), float(high), WELCH)


def _arm(arm: Arm, totals: ArmTotals) -> ArmFigures:
    n = totals.customers
    return ArmFigures(
        arm=arm,
        customers=n,
        mean=totals.outcome_sum / n if n else None,
        cost=totals.cost,
        cost_per_customer=(totals.cost / n).quantize(Decimal("0.01")) if n else None,
    )


def compare(
    metric: Metric, treatment: ArmTotals, holdout: ArmTotals, secondary: bool = False
) -> MetricFigures:
    """One metric's figures per arm and the difference, treatment − holdout, with its 95%
    interval and its uplift per ¥10,000 (a plain function of the sums)."""
    difference = (_wald if metric in BINARY else _welch)(treatment, holdout)
    uplift = None
    if difference is not None and treatment.customers and holdout.customers:
        extra = treatment.cost / treatment.customers - holdout.cost / holdout.customers
        # Only where the treatment cost more: per ¥ of nothing, or of less, means nothing.
        if extra > 0:
            per = float(PER_SPENT / extra)
            uplift = Interval(
                difference.estimate * per, difference.low * per, difference.high * per, "cost"
            )
    return MetricFigures(
        metric=metric,
        secondary=secondary,
        treatment=_arm(Arm.TREATMENT, treatment),
        holdout=_arm(Arm.HOLDOUT, holdout),
        difference=difference,
        uplift_per_10k=uplift,
    )


def _standardised(treatment: outcomes.Covariate, holdout: outcomes.Covariate) -> float | None:
    if treatment.mean is None or holdout.mean is None:
        return None
    pooled = math.sqrt(((treatment.sd or 0) ** 2 + (holdout.sd or 0) ** 2) / 2)
    if pooled == 0:
        return 0.0
    return (treatment.mean - holdout.mean) / pooled


def balance(covariates: dict[str, dict[Arm, outcomes.Covariate]]) -> list[BalanceRow]:
    """The pre-period covariates per arm, with their standardised differences."""
    return [
        BalanceRow(
            covariate=name,
            treatment=arms[Arm.TREATMENT].mean,
            holdout=arms[Arm.HOLDOUT].mean,
            standardised_difference=_standardised(arms[Arm.TREATMENT], arms[Arm.HOLDOUT]),
        )
        for name, arms in covariates.items()
    ]


def window_end(experiment: Experiment, today: date) -> date | None:
    """Where the outcomes are read up to (exclusive): the horizon, or earlier if stopped
    early, or today while it runs."""
    end = design.horizon_end(experiment)
    if end is None:
        return None
    if experiment.stopped_on is not None:
        return min(end, experiment.stopped_on)
    return min(end, today)


def contamination_count(experiment_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).where(ExperimentContamination.experiment_id == experiment_id)
    )


def report(experiment: Experiment, today: date | None = None) -> Report:
    """The experiment's report as of ``today``. Before the horizon of a running experiment
    only the counts; a stopped one over its shortened window, saying so."""
    today = today or local_today()
    end = window_end(experiment, today)
    horizon = design.horizon_end(experiment)
    reached = end is not None and horizon is not None and end >= horizon
    stopped = experiment.status in (ExperimentStatus.STOPPED, ExperimentStatus.ANALYSED)
    figures = reached or stopped
    base = {
        "experiment_id": experiment.id,
        "status": experiment.status,
        "metric": experiment.metric,
        "started_on": experiment.started_on,
        "window_end": end,
        "horizon_end": horizon,
        "horizon_reached": reached,
        "stopped_early": stopped and not reached,
        "contamination": contamination_count(experiment.id),
    }
    if not figures or experiment.started_on is None:
        return Report(**base, counts=assignment.arm_counts(experiment.id))
    read = outcomes.read(experiment, experiment.started_on, end)
    totals = read.totals
    primary = compare(
        experiment.metric,
        totals[experiment.metric][Arm.TREATMENT],
        totals[experiment.metric][Arm.HOLDOUT],
    )
    secondary = [
        compare(metric, arms[Arm.TREATMENT], arms[Arm.HOLDOUT], secondary=True)
        for metric, arms in totals.items()
        if metric != experiment.metric
    ]
    return Report(
        **base,
        counts=read.counts,
        balance=balance(read.covariates),
        primary=primary,
        secondary=secondary,
    )
