"""What happened to each arm, read set-based: one GROUP BY over the experiment's assignments
gives every metric's sums, what was spent, and the balance table's covariates; two more over
the few customers who bought a policy or moved after the window correct it. The statistics
(``analysis``) need nothing more than these sums, so the report costs the same few statements
at ten customers or a million.

The database keeps on each assignment what the customer's experiences within the window cost
(migration ``0026_experiment_spent``) and where the customer stands today (``0027``): read
at report time, those were a join with every experience of the window and with every
customer. Where a customer stood at the window's end is read from the first tiering after it
(its "from" quadrant), else their quadrant today: at or soon after the horizon that is a
handful of events, where the last tiering before the end was a pass over every event the
bank ever recorded.
"""

from __future__ import annotations

import time as clock
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa

from crm.core.clock import business_zone
from crm.extensions import db
from crm.models import Experience, Policy, QuadrantEvent
from crm.models.base import Money
from crm.models.enums import ExperienceStatus, Quadrant, RelationshipStatus
from crm.models.experiment import Arm, Experiment, ExperimentAssignment, Metric

# The grid's order for "upward" (develop < maintain = cultivate < pamper): maintain and
# cultivate trade one axis for the other, so a move between them is lateral.
LEVEL = {Quadrant.DEVELOP: 0, Quadrant.MAINTAIN: 1, Quadrant.CULTIVATE: 1, Quadrant.PAMPER: 2}
HELD = (ExperienceStatus.DONE, ExperienceStatus.NO_SHOW)
# Yes/no metrics: a customer's value is 0 or 1, so its square is itself.
BINARY = frozenset({Metric.UPWARD_MOVE, Metric.POLICY_BOUGHT, Metric.LOST})
# How long a start waits before it tries again for the tables it holds still (hold_writes).
RETRY_SECONDS = 0.05


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


def lost_day(customer) -> sa.ColumnElement:
    """The day ``customer`` (the table or an alias) was lost, while they are: NULL for one
    never lost or won back."""
    return sa.case((customer.relationship_status == RelationshipStatus.LOST, customer.lost_on))


def standing_values(
    start: date,
    end: date,
    before: tuple[sa.ColumnElement, sa.ColumnElement],
    now: tuple[sa.ColumnElement, sa.ColumnElement, sa.ColumnElement],
) -> dict[Metric, sa.ColumnElement]:
    """The metrics of where one customer stands over [start, end), against where they
    stood ``before`` (quadrant, willingness): ``now`` is their quadrant at the end (NULL:
    where they stood before), their willingness today and the day they were lost (while
    they are, as ``lost_day`` gives it)."""
    (quadrant_before, willingness_before), (quadrant_then, willingness, lost_on) = before, now
    upward = _level(sa.func.coalesce(quadrant_then, quadrant_before)) > _level(quadrant_before)
    return {
        Metric.UPWARD_MOVE: sa.case((upward, 1), else_=0),
        Metric.WILLINGNESS_CHANGE: willingness - willingness_before,
        Metric.LOST: sa.case((sa.and_(lost_on >= start, lost_on < end), 1), else_=0),
    }


def bought_values(bought: sa.Subquery) -> dict[Metric, sa.ColumnElement]:
    """The policy metrics of one customer, from their row of ``bought_in`` (outer-joined:
    NULL for one who bought nothing)."""
    return {
        Metric.POLICY_BOUGHT: sa.case((bought.c.policies > 0, 1), else_=0),
        # In the stored unit (fen on SQLite); scaled back once summed.
        Metric.PREMIUM: sa.func.coalesce(bought.c.premium, 0),
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


# PostgreSQL's "lock not available", which a lock taken NOWAIT raises.
LOCK_NOT_AVAILABLE = "55P03"


def hold_writes(*tables: str) -> None:
    """Writes to ``tables`` wait until this transaction ends (on PostgreSQL; SQLite has one
    writer at a time). What an assignment copies or counts (what was spent, where the
    customer stands) then takes in every write committed before it, and a write after it
    sees the assignments the triggers keep: none falls between the two and goes missing.

    The first table is waited for; the others are taken only if free at once, else all are
    let go and tried again shortly. Waiting for the second while holding the first would
    deadlock with a staff member's save that writes them in the other order (a dossier,
    then the experiences it plans)."""
    if db.engine.dialect.name != "postgresql":
        return
    first, *rest = tables
    while True:
        savepoint = db.session.begin_nested()
        try:
            db.session.execute(sa.text(f"LOCK TABLE {first} IN SHARE MODE"))
            for table in rest:
                db.session.execute(sa.text(f"LOCK TABLE {table} IN SHARE MODE NOWAIT"))
        except sa.exc.OperationalError as error:
            savepoint.rollback()  # lets the first table go too
            if getattr(error.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise
            clock.sleep(RETRY_SECONDS)
            continue
        savepoint.commit()  # the locks stay with the transaction
        return


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
    hold_writes("experience")
    db.session.execute(
        sa.update(a)
        .where(a.experiment_id == experiment.id)
        .values(spent=spent_by(experiment, a.customer_id))
        .execution_options(synchronize_session=False)
    )


def read(experiment: Experiment, start: date, end: date) -> Outcomes:
    """Every metric's sums per arm over [start, end), what was spent on each arm, and the
    pre-period covariates (the arms before anything was withheld).

    One pass over the experiment's assignments, which carry all of it but two things,
    grouped by arm and quadrant (the quadrant shares are the groups' sizes); then the two,
    each over the few customers it touches: the policies started in the window, and the
    customers who moved after its end (where they stood at the end is the "from" of their
    first move since, not their quadrant today)."""
    a = ExperimentAssignment
    before = (a.quadrant, a.willingness)
    standing = standing_values(start, end, before, (a.quadrant_now, a.willingness_now, a.lost_on))
    # Money as floating point: its squares in fen outgrow a 64-bit integer.
    covariates = {
        "liquid_assets": sa.cast(a.liquid_assets, sa.Float),
        "willingness": a.willingness,
        "age": a.age,
    }
    columns = [sa.func.count(), sa.type_coerce(sa.func.sum(a.spent), Money)]
    for metric, y in standing.items():
        # A yes/no value's square is itself.
        columns += [sa.func.sum(y)] if metric in BINARY else [sa.func.sum(y), sa.func.sum(y * y)]
    for y in covariates.values():
        columns += [sa.func.count(y), sa.func.sum(y), sa.func.sum(y * y)]
    groups = db.session.execute(
        sa.select(a.arm, a.quadrant, *columns)
        .where(a.experiment_id == experiment.id)
        .group_by(a.arm, a.quadrant)
    )
    sums = _group_sums(groups, list(standing), list(covariates))

    def of_customer(rows: sa.Subquery) -> sa.ColumnElement:
        return sa.and_(a.experiment_id == experiment.id, a.customer_id == rows.c.customer_id)

    bought = bought_in(start, end)
    policy = bought_values(bought)
    premium = sa.cast(policy[Metric.PREMIUM], sa.Float)
    for arm, policies, premiums, squares in db.session.execute(
        sa.select(
            a.arm,
            sa.func.sum(policy[Metric.POLICY_BOUGHT]),
            sa.func.sum(premium),
            sa.func.sum(premium * premium),
        )
        .select_from(bought)
        .join(a, of_customer(bought))
        .group_by(a.arm)
    ):
        sums.add(arm, Metric.POLICY_BOUGHT, policies)
        sums.add(arm, Metric.PREMIUM, premiums, squares)
    after = first_tiering_from(end, "after")
    then = (after.c.from_quadrant, a.willingness_now, a.lost_on)
    moved = standing_values(start, end, before, then)[Metric.UPWARD_MOVE]
    for arm, change in db.session.execute(
        sa.select(a.arm, sa.func.sum(moved - standing[Metric.UPWARD_MOVE]))
        .select_from(after)
        .join(a, of_customer(after))
        .group_by(a.arm)
    ):
        sums.add(arm, Metric.UPWARD_MOVE, change)
    return sums.outcomes(experiment)


@dataclass
class _Sums:
    """The report's sums per arm, gathered from its statements."""

    counts: dict[Arm, int]
    spent: dict[Arm, Decimal]
    by_quadrant: dict[tuple[Arm, Quadrant], int]
    metrics: dict[tuple[Arm, Metric], list[float]]
    covariates: dict[tuple[Arm, str], list[float]]

    def add(self, arm: Arm, metric: Metric, total, squares=None) -> None:
        """Add to a metric's sum (and sum of squares, but for a yes/no metric)."""
        held = self.metrics.setdefault((arm, metric), [0.0, 0.0])
        held[0] += float(total or 0)
        if metric not in BINARY:
            held[1] += float(squares or 0)

    def outcomes(self, experiment: Experiment) -> Outcomes:
        scale = money_scale()
        totals: dict[Metric, dict[Arm, ArmTotals]] = {metric: {} for metric in Metric}
        figures: dict[str, dict[Arm, Covariate]] = {}
        for arm in Arm:
            n = self.counts[arm]
            for metric in Metric:
                divide = scale if metric == Metric.PREMIUM else 1
                total, squares = self.metrics.get((arm, metric), (0.0, 0.0))
                squares = total if metric in BINARY else squares
                totals[metric][arm] = ArmTotals(
                    n, total / divide, squares / divide**2, self.spent[arm]
                )
            for quadrant in experiment.quadrant_keys:
                share = self.by_quadrant.get((arm, quadrant), 0) / n if n else None
                sd = (share * (1 - share)) ** 0.5 if share is not None else None
                figures.setdefault(f"quadrant:{quadrant.value}", {})[arm] = Covariate(share, sd)
            for (of, name), (known, total, squares) in self.covariates.items():
                if of != arm:
                    continue
                divide = scale if name == "liquid_assets" else 1
                if not known:
                    figures.setdefault(name, {})[arm] = Covariate(None, None)
                    continue
                mean = total / divide / known
                variance = max(squares / divide**2 / known - mean * mean, 0.0)
                figures.setdefault(name, {})[arm] = Covariate(mean, variance**0.5)
        return Outcomes(counts=self.counts, totals=totals, covariates=figures)


def _group_sums(groups, metrics: list[Metric], covariates: list[str]) -> _Sums:
    """The sums of the (arm, quadrant) groups, added up per arm."""
    sums = _Sums(
        counts={arm: 0 for arm in Arm},
        spent={arm: Decimal("0.00") for arm in Arm},
        by_quadrant={},
        metrics={},
        covariates={(arm, name): [0.0, 0.0, 0.0] for arm in Arm for name in covariates},
    )
    for arm, quadrant, n, cost, *values in groups:
        sums.counts[arm] += n
        sums.spent[arm] += cost or 0
        sums.by_quadrant[(arm, quadrant)] = n
        for metric in metrics:
            total = values.pop(0)
            sums.add(arm, metric, total, None if metric in BINARY else values.pop(0))
        for name in covariates:
            held = sums.covariates[(arm, name)]
            for i in range(3):
                held[i] += float(values.pop(0) or 0)
    return sums
