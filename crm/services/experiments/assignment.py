"""Who is held out (随机分组): an arm per customer by a keyed hash, recorded once.

At the start, the eligible customers are grouped by stratum (quadrant × branch), ordered
within it by the keyed hash of (experiment, customer), and the first share of each stratum
is held out: the arms are balanced in every stratum by construction, not by luck. Customers
who become eligible later are held out when their hash falls below the share. The hash is
keyed per experiment, so nobody can steer a customer into an arm, and an assignment is
never recomputed: the row is the truth.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from datetime import date

import sqlalchemy as sa

from crm.core import bulk
from crm.core.clock import local_today
from crm.extensions import db
from crm.models import Customer
from crm.models.enums import RelationshipStatus
from crm.models.experiment import (
    Arm,
    Experiment,
    ExperimentAssignment,
    ExperimentStatus,
)

_SCALE = float(2**64)


def _draw(key: str, text: str) -> float:
    digest = hashlib.blake2b(text.encode(), key=bytes.fromhex(key), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _SCALE


def arm_fraction(key: str, experiment_id: int, customer_id: int) -> float:
    """A number in [0, 1) fixed by (experiment, customer) and the experiment's secret key."""
    return _draw(key, f"{experiment_id}:{customer_id}")


def eligible(experiment: Experiment) -> sa.Select:
    """The customers the experiment covers and has not assigned yet: in its quadrants and
    branches, not lost."""
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
    return sa.select(
        Customer.id,
        Customer.quadrant,
        Customer.branch_id,
        Customer.liquid_assets,
        Customer.willingness,
        Customer.birth_date,
    ).where(*where)


def _age(born: date | None, today: date) -> int | None:
    if born is None:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


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
]


def _row(experiment: Experiment, customer, arm: Arm, today: date) -> tuple:
    return (
        experiment.id,
        customer.id,
        arm,
        customer.quadrant,
        customer.branch_id,
        customer.liquid_assets,
        customer.willingness,
        _age(customer.birth_date, today),
        today,
    )


def _insert(rows: list[tuple]) -> None:
    # A million rows at a start: COPY on PostgreSQL, one prepared INSERT elsewhere, as an
    # import writes them (the ORM's executemany of dictionaries is ten times slower).
    if rows:
        bulk.insert(ExperimentAssignment.__table__, COLUMNS, rows)


def assign_at_start(experiment: Experiment, today: date) -> int:
    """Give every eligible customer an arm, stratified by quadrant and branch (no commit)."""
    share = float(experiment.holdout_share)
    strata: dict[tuple, list] = defaultdict(list)
    for customer in db.session.execute(eligible(experiment)):
        strata[(customer.quadrant.value, customer.branch_id)].append(customer)
    rows = []
    for (quadrant, branch_id), members in strata.items():
        members.sort(key=lambda c: arm_fraction(experiment.key, experiment.id, c.id))
        # The stratum's share rounded by a draw of its own, so that many small strata
        # hold out the share on the whole instead of always rounding one way.
        wanted = len(members) * share
        held = math.floor(wanted)
        if _draw(experiment.key, f"{experiment.id}:{quadrant}:{branch_id}") < wanted - held:
            held += 1
        rows.extend(
            _row(experiment, c, Arm.HOLDOUT if i < held else Arm.TREATMENT, today)
            for i, c in enumerate(members)
        )
    _insert(rows)
    return len(rows)


def assign_newcomers(today: date | None = None) -> int:
    """Give an arm to each customer who became eligible for a running experiment since its
    start (no commit); the nightly planning runs it first, so the plan already obeys it."""
    today = today or local_today()
    assigned = 0
    for experiment in db.session.scalars(
        sa.select(Experiment).where(Experiment.status == ExperimentStatus.RUNNING)
    ):
        share = float(experiment.holdout_share)
        rows = [
            _row(
                experiment,
                c,
                Arm.HOLDOUT
                if arm_fraction(experiment.key, experiment.id, c.id) < share
                else Arm.TREATMENT,
                today,
            )
            for c in db.session.execute(eligible(experiment))
        ]
        _insert(rows)
        assigned += len(rows)
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
