"""Who is held out (随机分组): an arm per customer by a keyed hash, recorded once.

At the start, the eligible customers are grouped by stratum (quadrant × branch), ordered
within it by the keyed hash of the customer, and the first share of each stratum is held
out: the arms are balanced in every stratum by construction, not by luck. Customers who
become eligible later are held out when their hash falls below the share. The hash is keyed
per experiment, so nobody can steer a customer into an arm, and an assignment is never
recomputed: the row is the truth.

The hash is integer arithmetic modulo a prime (two affine steps with a quadratic step after
each, the constants drawn from the experiment's key), so the database computes it: a start
over a million customers is one INSERT … SELECT, with no row travelling to Python and back.
The same function, given a Python integer, tells tests and the simulator the same draw.
"""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import Customer
from crm.models.enums import Quadrant, RelationshipStatus
from crm.models.experiment import (
    Arm,
    Experiment,
    ExperimentAssignment,
    ExperimentStatus,
)
from crm.services.experiments import outcomes

# A Mersenne prime: every intermediate product stays below 2**62, inside a 64-bit integer
# on both databases.
PRIME = 2**31 - 1


def _constants(key: str) -> list[int]:
    """Four numbers in [1, PRIME) drawn from the experiment's secret key."""
    digest = hashlib.blake2b(b"assignment", key=bytes.fromhex(key), digest_size=32).digest()
    return [int.from_bytes(digest[i : i + 8], "big") % (PRIME - 1) + 1 for i in range(0, 32, 8)]


def mix(key: str, number):
    """The keyed hash of a whole number in [0, PRIME): of a Python int, or of an integer SQL
    expression (the same operators build both)."""
    a, b, c, d = _constants(key)
    x = (number * a + b) % PRIME
    x = x * ((x + c) % PRIME) % PRIME
    x = (x * d + a) % PRIME
    return x * ((x + b) % PRIME) % PRIME


def arm_fraction(key: str, experiment_id: int, customer_id: int) -> float:
    """A number in [0, 1) fixed by the customer and the experiment's secret key (the key is
    the experiment's own, so the id adds nothing)."""
    return mix(key, customer_id) / PRIME


def eligible(experiment: Experiment) -> list:
    """Who the experiment covers and has not assigned yet: in its quadrants and branches,
    not lost (the WHERE clauses over ``customer``)."""
    where = [
        Customer.quadrant.in_(experiment.quadrants),
        Customer.relationship_status != RelationshipStatus.LOST,
        ~sa.select(ExperimentAssignment.customer_id)
        .where(
            ExperimentAssignment.experiment_id == experiment.id,
            ExperimentAssignment.customer_id == Customer.id,
        )
        .exists(),
    ]
    if experiment.branch_ids:
        where.append(Customer.branch_id.in_(experiment.branch_ids))
    return where


def _age_on(today: date):
    """Whole years since the birth date on ``today`` (NULL without one), in SQL."""
    born = Customer.birth_date
    before_birthday = sa.extract("month", born) * 100 + sa.extract("day", born) > (
        today.month * 100 + today.day
    )
    return today.year - sa.extract("year", born) - sa.case((before_birthday, 1), else_=0)


def _arm(holdout) -> sa.Case:
    arm_type = ExperimentAssignment.__table__.c.arm.type
    return sa.case(
        (holdout, sa.literal(Arm.HOLDOUT, arm_type)), else_=sa.literal(Arm.TREATMENT, arm_type)
    )


def _stratum_number(key: str):
    """A draw per stratum for its rounding, from numbers no customer id reaches."""
    position = sa.case(
        *((Customer.quadrant == q, index) for index, q in enumerate(Quadrant)), else_=0
    )
    return mix(key, PRIME - 1 - (sa.cast(Customer.branch_id, sa.BigInteger) * 4 + position))


COLUMNS = [
    "experiment_id",
    "customer_id",
    "arm",
    "quadrant",
    "branch_id",
    "liquid_assets",
    "willingness",
    "age",
    "assigned_on",
    "spent",
    "quadrant_now",
    "willingness_now",
    "lost_on",
]


def _insert(experiment: Experiment, today: date, held_out) -> int:
    """One INSERT … SELECT of the eligible customers, each held out where
    ``held_out(columns, numerator, denominator)`` says, from their keyed hash, their stratum
    (the subquery's columns) and the holdout share as a fraction."""
    customer_hash = mix(experiment.key, sa.cast(Customer.id, sa.BigInteger))
    stratum = (Customer.quadrant, Customer.branch_id)
    chosen = (
        sa.select(
            Customer.id.label("customer_id"),
            Customer.quadrant,
            Customer.branch_id,
            Customer.liquid_assets,
            Customer.willingness,
            _age_on(today).label("age"),
            outcomes.lost_day(Customer).label("lost_on"),
            customer_hash.label("hash"),
            sa.func.row_number()
            .over(partition_by=stratum, order_by=(customer_hash, Customer.id))
            .label("rank"),
            sa.func.count().over(partition_by=stratum).label("size"),
            _stratum_number(experiment.key).label("stratum_draw"),
        )
        .where(*eligible(experiment))
        .subquery("chosen")
    )
    numerator, denominator = Decimal(experiment.holdout_share).as_integer_ratio()
    # What was already held within the window (a customer assigned after the start, an
    # experience recorded late): the database keeps it from here on.
    spent = outcomes.spent_per_customer(experiment)
    # What the customer's dossier says now is copied too, and kept by the database from
    # here on: a change written while the rows go in would miss them.
    outcomes.hold_writes("experience", "customer")
    rows = (
        sa.select(
            sa.literal(experiment.id, sa.Integer),
            chosen.c.customer_id,
            _arm(held_out(chosen.c, numerator, denominator)),
            chosen.c.quadrant,
            chosen.c.branch_id,
            chosen.c.liquid_assets,
            chosen.c.willingness,
            chosen.c.age,
            sa.literal(today, sa.Date),
            sa.func.coalesce(spent.c.spent, 0),
            chosen.c.quadrant,
            chosen.c.willingness,
            chosen.c.lost_on,
        )
        .select_from(chosen.outerjoin(spent, spent.c.customer_id == chosen.c.customer_id))
        .order_by(chosen.c.customer_id)
    )
    # Rows in the key's order (the window hands them over by stratum and hash): written
    # in a random order, each lands on another page of the table's key, which at a million
    # customers made the start 2.7 times a bulk insert on SQLite.
    table = ExperimentAssignment.__table__
    result = db.session.execute(
        table.insert().from_select([table.c[n] for n in COLUMNS], rows),
        execution_options={"preserve_rowcount": True},
    )
    return result.rowcount


def _first_of_stratum(c, numerator: int, denominator: int):
    """The first ``size × share`` of the stratum by hash; the stratum's share is rounded up
    or down by a draw of its own, so that many small strata hold out the share on the whole
    instead of always rounding one way."""
    wanted = c.size * numerator
    rounds_up = c.stratum_draw * denominator < (wanted % denominator) * PRIME
    return c.rank <= wanted // denominator + sa.case((rounds_up, 1), else_=0)


def _hash_below_share(c, numerator: int, denominator: int):
    return c.hash * denominator < numerator * PRIME


def assign_at_start(experiment: Experiment, today: date) -> int:
    """Give every eligible customer an arm, stratified by quadrant and branch (no commit)."""
    return _insert(experiment, today, _first_of_stratum)


def assign_newcomers(today: date | None = None) -> int:
    """Give an arm to each customer who became eligible for a running experiment since its
    start (no commit); the nightly planning runs it first, so the plan already obeys it.
    A newcomer is held out when their hash falls below the share."""
    today = today or local_today()
    assigned = 0
    for experiment in db.session.scalars(
        sa.select(Experiment).where(Experiment.status == ExperimentStatus.RUNNING)
    ):
        assigned += _insert(experiment, today, _hash_below_share)
    return assigned


def arm_counts(experiment_id: int) -> dict[Arm, int]:
    """Customers per arm."""
    counts = dict(
        db.session.execute(
            sa.select(ExperimentAssignment.arm, sa.func.count())
            .where(ExperimentAssignment.experiment_id == experiment_id)
            .group_by(ExperimentAssignment.arm)
        ).all()
    )
    return {arm: counts.get(arm, 0) for arm in Arm}


def holdout_ids(experiment_id: int) -> sa.Select:
    """The experiment's holdout customers, as a subquery."""
    return sa.select(ExperimentAssignment.customer_id).where(
        ExperimentAssignment.experiment_id == experiment_id,
        ExperimentAssignment.arm == Arm.HOLDOUT,
    )
