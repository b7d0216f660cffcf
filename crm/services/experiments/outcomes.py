"""What happened to each arm, read set-based: one GROUP BY over the experiment's assignments
gives every metric's sums, what was spent, and the balance table's covariates. The
statistics (``analysis``) need nothing more than these sums, so the report costs one
statement at ten customers or a million.

What was spent is kept on each assignment by the database as experiences are written
(migration ``0026_experiment_spent``): summing it at read time was a join with every
experience of the window. Where a customer stood at the window's end is read from the
first tiering after it (its "from" quadrant), else their quadrant today: at or soon after
the horizon that is a handful of events, where the last tiering before the end was a pass
over every event the bank ever recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
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
HELD = (ExperienceStatus.DONE, ExperienceStatus.NO_SHOW)
# Yes/no metrics: a customer's value is 0 or 1, so its square is itself.
BINARY = frozenset({Metric.UPWARD_MOVE, Metric.POLICY_BOUGHT, Metric.LOST})


@dataclass(frozen=True)
class ArmTotals:
    """One arm's sums of one metric: all the statistics need."""

    customers: int
    outcome_sum: float
    outcome_squares: float
    cost: Decimal


@dataclass(frozen=True)
class Covariate:
    """One pre-period covariate of one arm: mean and standard deviation (share for a level)."""

    mean: float | None
    sd: float | None


@dataclass(frozen=True)
class Outcomes:
    """Everything the report reads, per arm."""

    counts: dict[Arm, int]
    totals: dict[Metric, dict[Arm, ArmTotals]]
    covariates: dict[str, dict[Arm, Covariate]]


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
    quadrant_then,
) -> dict[Metric, sa.ColumnElement]:
    """Each metric of one customer (a row of ``customer``, outer-joined to ``bought``, the
    ``bought_in`` of the same period) over [start, end), against where they stood before:
    the assignment's record, or for the history the last tiering; ``quadrant_then`` is
    where they stood at the end (NULL: where they stood before)."""
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


def first_tiering_from(day: date, name: str) -> sa.Subquery:
    """Per customer, the first quadrant event at or after the start of ``day``: its "from"
    quadrant is where they stood on that day. At or soon after the horizon, a handful of
    events (on PostgreSQL one range of their time index)."""
    order = (QuadrantEvent.at, QuadrantEvent.id)
    ranked = (
        sa.select(
            QuadrantEvent.customer_id,
            QuadrantEvent.from_quadrant,
            sa.func.row_number()
            .over(partition_by=QuadrantEvent.customer_id, order_by=order)
            .label("rank"),
        )
        .where(QuadrantEvent.at >= _instant(day))
        .subquery()
    )
    return (
        sa.select(ranked.c.customer_id, ranked.c.from_quadrant)
        .where(ranked.c.rank == 1)
        .subquery(name)
    )


def spent_window(experiment: Experiment) -> tuple[date, date]:
    """The days whose held experiences count as spent on the experiment: from the start to
    the horizon, or to the stop if earlier (end exclusive), as the triggers count them."""
    end = experiment.started_on + timedelta(days=experiment.horizon_days)
    if experiment.stopped_on is not None:
        end = min(end, experiment.stopped_on)
    return experiment.started_on, end


def _held_within(experiment: Experiment) -> list:
    """The experiences that count as spent on the experiment: held (or missed) within its
    window, as the triggers count them."""
    start, end = spent_window(experiment)
    held_on = sa.func.coalesce(Experience.held_on, Experience.due_on)
    return [Experience.status.in_(HELD), held_on >= start, held_on < end]


SPENT = sa.func.coalesce(Experience.actual_cost, Experience.planned_cost)


def spent_per_customer(experiment: Experiment) -> sa.Subquery:
    """Per customer, what their experiences within the window cost: one grouped pass over
    the experiences' customer index, to join."""
    return (
        sa.select(Experience.customer_id, sa.func.sum(SPENT).label("spent"))
        .where(*_held_within(experiment))
        .group_by(Experience.customer_id)
        .subquery("spent")
    )


def hold_experience_writes() -> None:
    """Experiences wait to be written until this transaction ends (on PostgreSQL; SQLite has
    one writer at a time). A count of what was spent, at a start, for newcomers or at a stop,
    then sees every experience committed before it, and one written after it sees the
    assignments it filled: none falls between the two and goes uncounted."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("LOCK TABLE experience IN SHARE MODE"))


def spent_by(experiment: Experiment, customer_id) -> sa.ColumnElement:
    """What the experiences of the customer ``customer_id`` (a column) within the window
    cost: a sum over the customer's range of the experiences' index."""
    total = (
        sa.select(sa.func.sum(SPENT))
        .where(Experience.customer_id == customer_id, *_held_within(experiment))
        .scalar_subquery()
    )
    return sa.func.coalesce(total, 0)


def recount_spent(experiment: Experiment) -> None:
    """Count every assignment's spending afresh (no commit): a stop shortens the window."""
    a = ExperimentAssignment
    hold_experience_writes()
    db.session.execute(
        sa.update(a)
        .where(a.experiment_id == experiment.id)
        .values(spent=spent_by(experiment, a.customer_id))
        .execution_options(synchronize_session=False)
    )


def read(experiment: Experiment, start: date, end: date) -> Outcomes:
    """Every metric's sums per arm over [start, end), what was spent on each arm, and the
    pre-period covariates (the arms before anything was withheld): one statement, grouped by
    arm and quadrant (the quadrant shares are the groups' sizes)."""
    a = ExperimentAssignment
    bought, after = bought_in(start, end), first_tiering_from(end, "after")
    # Where they stood at the end: the "from" of their first move since, else today's.
    quadrant_then = sa.case(
        (after.c.customer_id.is_not(None), after.c.from_quadrant), else_=Customer.quadrant
    )
    metrics = metric_values(start, end, a.quadrant, a.willingness, bought, quadrant_then)
    # Money as floating point: its squares in fen outgrow a 64-bit integer.
    covariates = {
        "liquid_assets": sa.cast(a.liquid_assets, sa.Float),
        "willingness": a.willingness,
        "age": a.age,
    }
    values = {
        m.value: sa.cast(y, sa.Float) if m == Metric.PREMIUM else y for m, y in metrics.items()
    }
    # Each customer's values worked out once, then summed.
    per_customer = (
        sa.select(
            a.arm,
            a.quadrant,
            a.spent,
            *(y.label(name) for name, y in (values | covariates).items()),
        )
        .join(Customer, Customer.id == a.customer_id)
        .outerjoin(bought, bought.c.customer_id == a.customer_id)
        .outerjoin(after, after.c.customer_id == a.customer_id)
        .where(a.experiment_id == experiment.id)
    )
    if db.engine.dialect.name == "postgresql":
        # OFFSET 0 keeps PostgreSQL from folding the subquery in and working each value
        # out again for its square; SQLite, folding it, reads the assignments in the
        # index's (experiment, arm, quadrant) order and needs no sort for the groups.
        per_customer = per_customer.offset(0)
    per_customer = per_customer.subquery("per_customer")
    c = per_customer.c
    columns = [sa.func.count(), sa.type_coerce(sa.func.sum(c.spent), Money)]
    for metric in metrics:
        # A yes/no value's square is itself.
        columns += [sa.func.sum(c[metric.value])]
        if metric not in BINARY:
            columns += [sa.func.sum(c[metric.value] * c[metric.value])]
    for name in covariates:
        columns += [sa.func.count(c[name]), sa.func.sum(c[name]), sa.func.sum(c[name] * c[name])]
    statement = sa.select(c.arm, c.quadrant, *columns).group_by(c.arm, c.quadrant)
    return _outcomes(experiment, list(metrics), list(covariates), db.session.execute(statement))


def _outcomes(
    experiment: Experiment, metrics: list[Metric], covariates: list[str], rows
) -> Outcomes:
    """The per-arm figures from the sums of each (arm, quadrant) group."""
    counts = {arm: 0 for arm in Arm}
    spent = {arm: Decimal("0.00") for arm in Arm}
    by_quadrant: dict[tuple[Arm, Quadrant], int] = {}
    sums: dict[Arm, list[float]] = {}
    for arm, quadrant, n, cost, *group in rows:
        counts[arm] += n
        spent[arm] += cost or 0
        by_quadrant[(arm, quadrant)] = n
        previous = sums.get(arm) or [0.0] * len(group)
        sums[arm] = [
            total + float(value or 0) for total, value in zip(previous, group, strict=True)
        ]
    totals: dict[Metric, dict[Arm, ArmTotals]] = {metric: {} for metric in metrics}
    figures: dict[str, dict[Arm, Covariate]] = {}
    scale = money_scale()
    for arm in Arm:
        n, row = (
            counts[arm],
            list(sums.get(arm) or [0.0] * (2 * len(metrics) + 3 * len(covariates))),
        )
        for metric in metrics:
            divide = scale if metric == Metric.PREMIUM else 1
            total = row.pop(0)
            squares = total if metric in BINARY else row.pop(0)
            totals[metric][arm] = ArmTotals(n, total / divide, squares / divide**2, spent[arm])
        for quadrant in experiment.quadrant_keys:
            share = by_quadrant.get((arm, quadrant), 0) / n if n else None
            sd = (share * (1 - share)) ** 0.5 if share is not None else None
            figures.setdefault(f"quadrant:{quadrant.value}", {})[arm] = Covariate(share, sd)
        for name in covariates:
            known, total, squares = row.pop(0), row.pop(0), row.pop(0)
            divide = scale if name == "liquid_assets" else 1
            if not known:
                figures.setdefault(name, {})[arm] = Covariate(None, None)
                continue
            mean = total / divide / known
            variance = max(squares / divide**2 / known - mean * mean, 0.0)
            figures.setdefault(name, {})[arm] = Covariate(mean, variance**0.5)
    return Outcomes(counts=counts, totals=totals, covariates=figures)
