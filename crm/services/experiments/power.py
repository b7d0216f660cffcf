"""Power up front (检验功效): what difference a design can detect, before anyone waits for it.

From the history of the customers the design covers (the primary metric over the last
horizon-long period: its base rate, or its mean and spread) and the arms' sizes, the minimum
detectable difference at 80% power and 5% two-sided significance (statsmodels: the normal
test of Cohen's h for a share, the two-sample t test for a mean). A design whose detectable
effect is more than 0.3 standard deviations (between Cohen's "small" 0.2 and "medium" 0.5)
can detect nothing a touchpoint policy is likely to do, and the page says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import Customer
from crm.models.enums import RelationshipStatus
from crm.models.experiment import Experiment, Metric
from crm.services.experiments import outcomes

ALPHA = 0.05
POWER = 0.80
USEFUL_EFFECT = 0.3
BINARY = frozenset({Metric.UPWARD_MOVE, Metric.POLICY_BOUGHT, Metric.LOST})


@dataclass(frozen=True)
class Power:
    metric: Metric
    customers: int
    treatment: int
    holdout: int
    baseline: float | None  # the history's base rate (a share) or mean
    spread: float | None  # the history's standard deviation (a mean's metric only)
    detectable: float | None  # the minimum detectable difference, in the metric's units
    effect_size: float | None  # the same, standardised (Cohen's h or d)
    useful: bool


def detectable_difference(
    metric: Metric,
    baseline: float | None,
    spread: float | None,
    treatment: int,
    holdout: int,
    alpha: float = ALPHA,
    power: float = POWER,
) -> tuple[float | None, float | None]:
    """The smallest true difference (and its standardised size) the arms detect with
    ``power`` at ``alpha``; (None, None) when they cannot detect any."""
    from statsmodels.stats.power import NormalIndPower, TTestIndPower

    if treatment < 2 or holdout < 2 or baseline is None:
        return None, None
    ratio = holdout / treatment
    if metric in BINARY:
        if not 0 < baseline < 1:
            # Nobody (or everybody) moved in the history: no variation to size a difference by.
            return None, None
        h = NormalIndPower().solve_power(nobs1=treatment, alpha=alpha, power=power, ratio=ratio)
        # Cohen's h back to a share: h = 2·asin(√p1) − 2·asin(√p0), upwards from the base rate.
        angle = min(math.asin(math.sqrt(baseline)) + h / 2, math.pi / 2)
        return math.sin(angle) ** 2 - baseline, float(h)
    if not spread:
        return None, None
    d = TTestIndPower().solve_power(nobs1=treatment, alpha=alpha, power=power, ratio=ratio)
    return float(d) * spread, float(d)


def _scope(quadrants: list[str], branch_ids: list[int]) -> list[sa.ColumnElement[bool]]:
    where = [
        Customer.quadrant.in_(quadrants),
        Customer.relationship_status != RelationshipStatus.LOST,
    ]
    if branch_ids:
        where.append(Customer.branch_id.in_(branch_ids))
    return where


def history(
    metric: Metric, quadrants: list[str], branch_ids: list[int], horizon_days: int, today: date
) -> tuple[int, float | None, float | None]:
    """How many customers the scope covers today, and the metric's mean and standard
    deviation among them over the horizon-long period that just ended."""
    start = today - timedelta(days=horizon_days)
    # Where each stood at the period's start: the last tiering before it (the willingness it
    # was placed with is the latest score the history keeps).
    before = outcomes.tiering_before(start, "before")
    quadrant_before = sa.func.coalesce(before.c.to_quadrant, Customer.quadrant)
    willingness_before = sa.func.coalesce(before.c.willingness, Customer.willingness)
    bought, then = outcomes.bought_in(start, today), outcomes.tiering_before(today, "then")
    now = (then.c.to_quadrant, Customer.willingness, outcomes.lost_day(Customer))
    value = outcomes.standing_values(
        start, today, (quadrant_before, willingness_before), now
    ) | outcomes.bought_values(bought)
    y = sa.cast(value[metric], sa.Float)
    n, total, squares = db.session.execute(
        sa.select(sa.func.count(), sa.func.sum(y), sa.func.sum(y * y))
        .select_from(Customer)
        .outerjoin(before, before.c.customer_id == Customer.id)
        .outerjoin(bought, bought.c.customer_id == Customer.id)
        .outerjoin(then, then.c.customer_id == Customer.id)
        .where(*_scope(quadrants, branch_ids))
    ).one()
    if not n:
        return 0, None, None
    scale = outcomes.money_scale() if metric == Metric.PREMIUM else 1
    mean = float(total or 0) / scale / n
    variance = max(float(squares or 0) / scale**2 / n - mean * mean, 0.0)
    return int(n), mean, math.sqrt(variance)


def power_of_design(design: Experiment | Mapping[str, Any], today: date | None = None) -> Power:
    """What this design can detect with the customers it covers now (a checked design: an
    experiment, or the fields ``design.read_design`` returns)."""
    today = today or local_today()
    get = design.get if isinstance(design, Mapping) else lambda k: getattr(design, k)
    metric = Metric(get("metric"))
    customers, baseline, spread = history(
        metric,
        [str(q) for q in get("quadrants")],
        list(get("branch_ids") or []),
        int(get("horizon_days")),
        today,
    )
    holdout = round(customers * float(get("holdout_share")))
    treatment = customers - holdout
    detectable, effect = detectable_difference(
        metric, baseline, spread if metric not in BINARY else None, treatment, holdout
    )
    return Power(
        metric=metric,
        customers=customers,
        treatment=treatment,
        holdout=holdout,
        baseline=baseline,
        spread=spread if metric not in BINARY else None,
        detectable=detectable,
        effect_size=effect,
        useful=effect is not None and effect <= USEFUL_EFFECT,
    )
