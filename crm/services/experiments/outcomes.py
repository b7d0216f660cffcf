"""What happened to each arm, read set-based: one GROUP BY for every metric, one for the cost,
two for the balance table. The statistics (``analysis``) need nothing more than these sums,
so the report costs the same few statements at ten customers or a million.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

import sqlalchemy as sa

from crm.core.clock import business_zone
from crm.extensions import db
from crm.models import Customer, Experience, Policy, QuadrantEvent
from crm.models.base import Money
from crm.models.enums import ExperienceStatus, Quadrant, RelationshipStatus
from crm.models.experiment import Arm, Experiment, ExperimentAssignment, Metric

# The grid's order for "upward" (develop < maintain = cultivate < pamper): maintain and
# cultivate trade one axis for the other, so a move between them is lateral.
LEVEL = {Quadrant.DEVELOP: 0, Quadrant.MAINTAIN: 1, Quadrant.CULTIVATE: 1, Quadrant.PAMPER: 2}


@dataclass(frozen=True)
class ArmTotals:
    """One arm's sums of one metric: all the statistics need."""

    customers: int
    outcome_sum: float
    outcome_squares: float
    cost: Decimal


def _instant(day: date) -> datetime:
    """The start of a business day, as the aware instant the event columns hold."""
    return datetime.combine(day, time(), tzinfo=business_zone())


def money_scale() -> int:
    """Money is stored in fen on SQLite (crm.models.base.Money): sums come back in fen."""
    return 100 if db.engine.dialect.name == "sqlite" else 1


def _level(column) -> sa.Case:
    return sa.case({q.value: level for q, level in LEVEL.items()}, value=column, else_=0)


def tiering_before(before: date, name: str) -> sa.Subquery:
    """Per customer, the latest quadrant event before ``before`` (its quadrant and the
    willingness it was placed with): one windowed pass to join, rather than a lookup per
    customer (which PostgreSQL runs as a sub-plan per row)."""
    order = (QuadrantEvent.at.desc(), QuadrantEvent.id.desc())
    ranked = (
        sa.select(
            QuadrantEvent.customer_id,
            QuadrantEvent.to_quadrant,
            QuadrantEvent.willingness,
            sa.func.row_number()
            .over(partition_by=QuadrantEvent.customer_id, order_by=order)
            .label("rank"),
        )
        .where(QuadrantEvent.at < _instant(before))
        .subquery()
    )
    return (
        sa.select(ranked.c.customer_id, ranked.c.to_quadrant, ranked.c.willingness)
        .where(ranked.c.rank == 1)
        .subquery(name)
    )


def bought_in(start: date, end: date) -> sa.Subquery:
    """Per customer, the policies that started within [start, end) and their premium: one
    GROUP BY to join, rather than two lookups per customer."""
    return (
        sa.select(
            Policy.customer_id,
            sa.func.count().label("policies"),
            sa.func.sum(Policy.premium).label("premium"),
        )
        .where(Policy.start_date >= start, Policy.start_date < end)
        .group_by(Policy.customer_id)
        .subquery("bought")
    )


def metric_values(
    start: date,
    end: date,
    quadrant_before,
    willingness_before,
    bought: sa.Subquery,
    then: sa.Subquery,
) -> dict[Metric, sa.ColumnElement]:
    """Each metric of one customer (a row of ``customer``, outer-joined to ``bought``, the
    ``bought_in`` of the same period, and to ``then``, its ``tiering_before(end)``) over
    [start, end), against where they stood before: the assignment's record, or for the
    history the last tiering."""
    quadrant_then = then.c.to_quadrant
    upward = _level(sa.func.coalesce(quadrant_then, quadrant_before)) > _level(quadrant_before)
    lost = sa.and_(
        Customer.relationship_status == RelationshipStatus.LOST,
        Customer.lost_on >= start,
        Customer.lost_on < end,
    )
    return {
        Metric.UPWARD_MOVE: sa.case((upward, 1), else_=0),
        Metric.WILLINGNESS_CHANGE: Customer.willingness - willingness_before,
        Metric.POLICY_BOUGHT: sa.case((bought.c.policies > 0, 1), else_=0),
        # In the stored unit (fen on SQLite); scaled back once summed.
        Metric.PREMIUM: sa.func.coalesce(bought.c.premium, 0),
        Metric.LOST: sa.case((lost, 1), else_=0),
    }


def arm_totals(
    experiment: Experiment, start: date, end: date
) -> dict[Metric, dict[Arm, ArmTotals]]:
    """Every metric's sums per arm over [start, end), and what was spent on each arm."""
    a = ExperimentAssignment
    bought, then = bought_in(start, end), tiering_before(end, "then")
    outcomes = metric_values(start, end, a.quadrant, a.willingness, bought, then)
    per_customer = (
        sa.select(a.arm, *(y.label(m.value) for m, y in outcomes.items()))
        .join(Customer, Customer.id == a.customer_id)
        .outerjoin(bought, bought.c.customer_id == a.customer_id)
        .outerjoin(then, then.c.customer_id == a.customer_id)
        .where(a.experiment_id == experiment.id)
        .subquery()
    )
    columns = [sa.func.count()]
    for metric in outcomes:
        y = sa.cast(per_customer.c[metric.value], sa.Float)
        columns += [sa.func.coalesce(sa.func.sum(y), 0), sa.func.coalesce(sa.func.sum(y * y), 0)]
    rows = {
        row[0]: row[1:]
        for row in db.session.execute(
            sa.select(per_customer.c.arm, *columns).group_by(per_customer.c.arm)
        )
    }
    costs = spent(experiment, start, end)
    scale = money_scale()
    totals: dict[Metric, dict[Arm, ArmTotals]] = {}
    for i, metric in enumerate(outcomes):
        divide = scale if metric == Metric.PREMIUM else 1
        totals[metric] = {}
        for arm in Arm:
            row = rows.get(arm) or (0,) + (0.0,) * (2 * len(outcomes))
            totals[metric][arm] = ArmTotals(
                customers=int(row[0]),
                outcome_sum=float(row[1 + 2 * i]) / divide,
                outcome_squares=float(row[2 + 2 * i]) / divide**2,
                cost=costs.get(arm, Decimal("0.00")),
            )
    return totals


def spent(experiment: Experiment, start: date, end: date) -> dict[Arm, Decimal]:
    """What the experiences held with each arm's customers within [start, end) cost, every
    category (the actual cost, else the plan)."""
    a = ExperimentAssignment
    held_on = sa.func.coalesce(Experience.held_on, Experience.due_on)
    cost = sa.func.coalesce(Experience.actual_cost, Experience.planned_cost)
    statement = (
        sa.select(a.arm, sa.type_coerce(sa.func.sum(cost), Money))
        .join(Experience, Experience.customer_id == a.customer_id)
        .where(
            a.experiment_id == experiment.id,
            Experience.status.in_([ExperienceStatus.DONE, ExperienceStatus.NO_SHOW]),
            held_on >= start,
            held_on < end,
        )
        .group_by(a.arm)
    )
    return {arm: amount or Decimal("0.00") for arm, amount in db.session.execute(statement)}


@dataclass(frozen=True)
class Covariate:
    """One pre-period covariate of one arm: mean and standard deviation (share for a level)."""

    mean: float | None
    sd: float | None


def covariates(experiment: Experiment) -> dict[str, dict[Arm, Covariate]]:
    """The arms before anything was withheld: quadrant shares, mean assets, willingness, age."""
    a = ExperimentAssignment
    scale = money_scale()
    result: dict[str, dict[Arm, Covariate]] = {}
    counts: dict[Arm, int] = {}
    by_quadrant: dict[tuple[Arm, Quadrant], int] = {}
    for arm, quadrant, n in db.session.execute(
        sa.select(a.arm, a.quadrant, sa.func.count())
        .where(a.experiment_id == experiment.id)
        .group_by(a.arm, a.quadrant)
    ):
        counts[arm] = counts.get(arm, 0) + n
        by_quadrant[(arm, quadrant)] = n
    for quadrant in experiment.quadrant_keys:
        result[f"quadrant:{quadrant.value}"] = {}
        for arm in Arm:
            n = counts.get(arm, 0)
            share = by_quadrant.get((arm, quadrant), 0) / n if n else None
            sd = (share * (1 - share)) ** 0.5 if share is not None else None
            result[f"quadrant:{quadrant.value}"][arm] = Covariate(share, sd)
    numeric = {
        "liquid_assets": (sa.cast(a.liquid_assets, sa.Float), scale),
        "willingness": (sa.cast(a.willingness, sa.Float), 1),
        "age": (sa.cast(a.age, sa.Float), 1),
    }
    columns = []
    for column, _ in numeric.values():
        columns += [sa.func.count(column), sa.func.sum(column), sa.func.sum(column * column)]
    rows = {
        row[0]: row[1:]
        for row in db.session.execute(
            sa.select(a.arm, *columns).where(a.experiment_id == experiment.id).group_by(a.arm)
        )
    }
    for i, (name, (_, divide)) in enumerate(numeric.items()):
        result[name] = {}
        for arm in Arm:
            n, total, squares = (rows.get(arm) or (0, 0, 0) * len(numeric))[3 * i : 3 * i + 3]
            if not n:
                result[name][arm] = Covariate(None, None)
                continue
            mean = float(total) / divide / n
            variance = max(float(squares) / divide**2 / n - mean * mean, 0.0)
            result[name][arm] = Covariate(mean, variance**0.5)
    return result
