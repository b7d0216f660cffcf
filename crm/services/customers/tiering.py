"""Customer tiering (客户分层): the quadrant rule, its thresholds, and every move between tiers.

The rule is one pure function, ``quadrant_for``; ``quadrant_case`` is the same rule as SQL
for set-based re-tiering. Each change of a customer's quadrant writes a ``QuadrantEvent``,
from which "quadrant as of D" is derived.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from crm.core import audit, jobs, reads
from crm.core.inputs import InvalidInput, parse_amount
from crm.extensions import db
from crm.models import Customer, Experience, QuadrantEvent, Setting, Staff
from crm.models.base import utcnow
from crm.models.customer import WILLINGNESS_MAX, WILLINGNESS_MIN
from crm.models.enums import MoveCause, Quadrant

MAX_CAPABILITY = Decimal("1000000000000.00")


@dataclass(frozen=True)
class Thresholds:
    """Capability is high at or above ``capability`` yuan, willingness at ``willingness``."""

    capability: Decimal = Decimal("1000000.00")  # seed 002's mid-tier line
    willingness: int = 60  # "trusting" and above


def quadrant_for(liquid_assets: Decimal, willingness: int, thresholds: Thresholds) -> Quadrant:
    """The quadrant of a customer: capability × willingness, high at or above each threshold."""
    high_capability = liquid_assets >= thresholds.capability
    high_willingness = willingness >= thresholds.willingness
    if high_capability:
        return Quadrant.PAMPER if high_willingness else Quadrant.CULTIVATE
    return Quadrant.MAINTAIN if high_willingness else Quadrant.DEVELOP


def quadrant_case(thresholds: Thresholds) -> sa.Case:
    """``quadrant_for`` as a SQL expression over the customer table."""
    high_capability = Customer.liquid_assets >= thresholds.capability
    high_willingness = Customer.willingness >= thresholds.willingness
    return sa.case(
        (sa.and_(high_capability, high_willingness), Quadrant.PAMPER.value),
        (high_capability, Quadrant.CULTIVATE.value),
        (high_willingness, Quadrant.MAINTAIN.value),
        else_=Quadrant.DEVELOP.value,
    )


# --- thresholds -------------------------------------------------------------------------

CAPABILITY_KEY = "tiering.capability_threshold"
WILLINGNESS_KEY = "tiering.willingness_threshold"


def current_thresholds() -> Thresholds:
    """The thresholds in force (the defaults until an admin changes them)."""
    stored = dict(
        db.session.execute(
            sa.select(Setting.key, Setting.value).where(
                Setting.key.in_((CAPABILITY_KEY, WILLINGNESS_KEY))
            )
        ).all()
    )
    default = Thresholds()
    return Thresholds(
        capability=Decimal(stored.get(CAPABILITY_KEY, default.capability)),
        willingness=int(stored.get(WILLINGNESS_KEY, default.willingness)),
    )


def parse_thresholds(capability, willingness) -> Thresholds:
    """Thresholds from user input, or ``InvalidInput`` saying what is wrong with each."""
    errors = {}
    out_of_range = _l("The capability threshold must be more than ¥0 and at most ¥1 trillion.")
    cap = parse_amount(
        str(capability),
        "capability_threshold",
        errors,
        maximum=MAX_CAPABILITY,
        positive=True,
        messages={
            "invalid": _l("Enter an amount in yuan, such as 1000000."),
            "negative": out_of_range,
            "zero": out_of_range,
            "too_large": out_of_range,
        },
    )
    try:
        will = int(str(willingness).strip())
    except ValueError:
        errors["willingness_threshold"] = _l("Enter a whole number from 1 to 100.")
        will = None
    if will is not None and not WILLINGNESS_MIN < will <= WILLINGNESS_MAX:
        errors["willingness_threshold"] = _l("Enter a whole number from 1 to 100.")
    if errors:
        raise InvalidInput(errors)
    return Thresholds(capability=cap, willingness=will)


def save_thresholds(actor: Staff | None, thresholds: Thresholds) -> dict:
    """Store new thresholds (audited); the caller then re-tiers everyone with ``retier_all``."""
    before = current_thresholds()
    changes = audit.diff(
        {"capability_threshold": before.capability, "willingness_threshold": before.willingness},
        {
            "capability_threshold": thresholds.capability,
            "willingness_threshold": thresholds.willingness,
        },
    )
    for key, value in (
        (CAPABILITY_KEY, thresholds.capability),
        (WILLINGNESS_KEY, thresholds.willingness),
    ):
        setting = db.session.get(Setting, key) or Setting(key=key)
        setting.value = str(value)
        setting.updated_by_id = actor.id if actor else None
        db.session.add(setting)
    if changes:
        audit.record(actor, "setting", 0, "update", changes)
    return changes


# --- one customer -------------------------------------------------------------------------


def place(
    customer: Customer,
    cause: MoveCause,
    actor: Staff | None,
    *,
    thresholds: Thresholds | None = None,
    experience_id: int | None = None,
    note: str | None = None,
    first: bool = False,
) -> QuadrantEvent | None:
    """Re-evaluate one customer's quadrant; record the move if there is one (or the first
    placement of a new dossier). The caller commits."""
    thresholds = thresholds or current_thresholds()
    new = quadrant_for(customer.liquid_assets, customer.willingness, thresholds)
    if not first and customer.quadrant == new:
        return None
    event = QuadrantEvent(
        customer=customer,
        from_quadrant=None if first else customer.quadrant,
        to_quadrant=new,
        liquid_assets=customer.liquid_assets,
        willingness=customer.willingness,
        capability_threshold=thresholds.capability,
        willingness_threshold=thresholds.willingness,
        cause=cause,
        experience_id=experience_id,
        note=note,
        actor_id=actor.id if actor else None,
        at=utcnow(),
    )
    customer.quadrant = new
    db.session.add(event)
    return event


# --- everyone ----------------------------------------------------------------------------


def insert_events(
    where: sa.ColumnElement[bool],
    *,
    source: sa.ColumnElement | None,
    target: sa.ColumnElement,
    thresholds: Thresholds,
    cause: MoveCause,
    actor_id: int | None,
    at: sa.ColumnElement,
) -> None:
    """Write quadrant events for the customers matching ``where`` in one INSERT … SELECT
    (``source`` None: a first placement)."""
    db.session.execute(
        sa.insert(QuadrantEvent.__table__).from_select(
            [
                "customer_id",
                "from_quadrant",
                "to_quadrant",
                "liquid_assets",
                "willingness",
                "capability_threshold",
                "willingness_threshold",
                "cause",
                "actor_id",
                "at",
            ],
            sa.select(
                Customer.id,
                sa.null() if source is None else source,
                target,
                Customer.liquid_assets,
                Customer.willingness,
                sa.literal(thresholds.capability, QuadrantEvent.capability_threshold.type),
                sa.literal(thresholds.willingness),
                sa.literal(cause.value),
                sa.literal(actor_id, sa.Integer),
                at,
            ).where(where),
        )
    )


@dataclass
class RetierSummary:
    examined: int
    moves: Counter  # (from, to) -> count

    @property
    def moved(self) -> int:
        return sum(self.moves.values())


def retier_all(
    thresholds: Thresholds,
    *,
    actor: Staff | None = None,
    cause: MoveCause = MoveCause.THRESHOLD_CHANGE,
    chunk: int = 200_000,
    progress: Callable[[int, int], None] | None = None,
) -> RetierSummary:
    """Re-tier every customer, set-based: per id range, one INSERT … SELECT of the events
    and one UPDATE … CASE, committed together. Interrupted, each customer is in its old or
    new quadrant with events to match; run again, it finishes the rest (idempotent).
    """
    at = utcnow()
    bounds = db.session.execute(sa.select(sa.func.min(Customer.id), sa.func.max(Customer.id))).one()
    low, high = bounds[0] or 0, bounds[1] or -1
    new = quadrant_case(thresholds)
    table = Customer.__table__
    dialect = db.engine.dialect.name
    start = low
    while start <= high:
        end = min(start + chunk - 1, high)
        in_range = sa.and_(Customer.id >= start, Customer.id <= end)
        moving = sa.and_(in_range, Customer.quadrant != new)
        if dialect == "postgresql":
            # Keep dossier writers out of this range until events and quadrants agree.
            db.session.execute(sa.text("LOCK TABLE customer IN SHARE ROW EXCLUSIVE MODE"))
        insert_events(
            moving,
            source=Customer.quadrant,
            target=new,
            thresholds=thresholds,
            cause=cause,
            actor_id=actor.id if actor else None,
            at=sa.literal(at, QuadrantEvent.at.type),
        )
        db.session.execute(sa.update(table).where(moving).values(quadrant=new))
        db.session.commit()
        if progress:
            progress(end - low + 1, high - low + 1)
        start = end + 1
    moves = Counter(
        {
            (from_q, to_q): count
            for from_q, to_q, count in db.session.execute(
                sa.select(QuadrantEvent.from_quadrant, QuadrantEvent.to_quadrant, sa.func.count())
                .where(QuadrantEvent.at == at, QuadrantEvent.cause == cause)
                .group_by(QuadrantEvent.from_quadrant, QuadrantEvent.to_quadrant)
            )
        }
    )
    examined = db.session.scalar(sa.select(sa.func.count()).select_from(Customer))
    return RetierSummary(examined=examined, moves=moves)


def change_thresholds(
    actor: Staff | None,
    thresholds: Thresholds,
    progress: Callable[[int, int], None] | None = None,
) -> RetierSummary:
    """Store new thresholds and re-tier everyone under them, here and now (commits): the
    command line's way, with its progress bar. Refused while a re-tier is queued or running,
    which would otherwise finish under the thresholds it was queued with."""
    refuse_while_retiering()
    save_thresholds(actor, thresholds)
    db.session.commit()
    return retier_all(thresholds, actor=actor, progress=progress)


def refuse_while_retiering() -> None:
    """``InvalidInput`` while a queued re-tier (crm.core.jobs) is not done."""
    if jobs.under_way() is not None:
        raise InvalidInput(
            {
                "thresholds": _l(
                    "Customers are still being re-tiered under the last change. "
                    "Wait until it is done, then save again."
                )
            }
        )


# --- history ---------------------------------------------------------------------------


def quadrants_as_of(
    when: datetime, scope: sa.ColumnElement[bool] | None = None
) -> dict[int, Quadrant]:
    """Each customer's quadrant at ``when`` (customers not yet placed then are absent)."""
    latest = sa.select(
        QuadrantEvent.customer_id,
        QuadrantEvent.to_quadrant,
        sa.func.row_number()
        .over(
            partition_by=QuadrantEvent.customer_id,
            order_by=(QuadrantEvent.at.desc(), QuadrantEvent.id.desc()),
        )
        .label("rank"),
    ).where(QuadrantEvent.at <= when)
    if scope is not None:
        latest = latest.where(QuadrantEvent.customer_id.in_(sa.select(Customer.id).where(scope)))
    latest = latest.subquery()
    rows = db.session.execute(
        sa.select(latest.c.customer_id, latest.c.to_quadrant).where(latest.c.rank == 1)
    )
    return {customer_id: Quadrant(q) for customer_id, q in rows}


@functools.cache
def _movement_statement() -> sa.Select:
    return (
        sa.select(
            *QuadrantEvent.__table__.c,
            Experience.category.label("experience_category"),
            sa.func.coalesce(Experience.held_on, Experience.due_on).label("experience_on"),
            Experience.response.label("experience_response"),
            Staff.display_name.label("actor_name"),
        )
        .outerjoin(Experience, Experience.id == QuadrantEvent.experience_id)
        .outerjoin(Staff, Staff.id == QuadrantEvent.actor_id)
        .where(QuadrantEvent.customer_id == sa.bindparam("customer_id"))
        .order_by(QuadrantEvent.at.desc(), QuadrantEvent.id.desc())
    )


def movement(customer_id: int) -> Sequence[sa.Row]:
    """A customer's moves, newest first: the dossier's timeline, each with the experience
    that caused it (``experience_category``, ``experience_on``, ``experience_response``) and
    who moved it (``actor_name``)."""
    return reads.rows(_movement_statement(), customer_id=customer_id)
