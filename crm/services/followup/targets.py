"""The follow-up measures against seed 003's targets, for every page and notebook.

- policy conversion: 20% of participating-policy maturities converted to a new policy;
- deposit conversion: 30% of participating-policy maturities converted to a deposit;
- universal-life retention: at least 60% of universal-life holders called keep their policy
  (renew, convert to a new policy, or not yet decided), among those reached;
- satisfaction: at least 80% of answered complaints end satisfied, and a complaint that ends in
  a non-routine surrender never counts as satisfied (满意客户指未处理至非常规退保或赔偿客户).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from crm.core.access import customer_scope
from crm.core.clock import business_zone
from crm.extensions import db
from crm.labels import CHANNEL
from crm.models import Branch, Complaint, Customer, MaturityCallback, Policy, Staff
from crm.models.base import utcnow
from crm.models.enums import CallbackIntent, Channel, ProductType

# Universal-life holders who keep their policy (the retention target's numerator).
RETAINED = (CallbackIntent.RENEW, CallbackIntent.NEW_POLICY, CallbackIntent.UNDECIDED)


@dataclass(frozen=True)
class Measure:
    """One of seed 003's measures: ``part`` of ``whole`` (counts of an ``Outcome``) as a
    percentage, against the target configured under ``key``; ``heading`` names it with the
    target (``%(n)s``)."""

    key: str
    part: str
    whole: str
    heading: Any


# The one table of the measures: the follow-up page, its totals and the notebooks read it.
MEASURES = (
    Measure(
        "policy_conversion",
        "converted_to_policy",
        "participating",
        _l("Policy conversion (target %(n)s%%)"),
    ),
    Measure(
        "deposit_conversion",
        "converted_to_deposit",
        "participating",
        _l("Deposit conversion (target %(n)s%%)"),
    ),
    Measure(
        "universal_retention",
        "universal_retained",
        "universal_reached",
        _l("Universal life retained (target ≥ %(n)s%%)"),
    ),
    Measure(
        "satisfaction",
        "complaints_satisfied",
        "complaints_answered",
        _l("Satisfaction after complaints (target ≥ %(n)s%%)"),
    ),
)
_MEASURES = {m.key: m for m in MEASURES}


def targets_config() -> dict[str, Decimal]:
    """Each measure's target in percent, as configured (the seed's figures by default)."""
    return {k: Decimal(str(v)) for k, v in current_app.config["CRM_FOLLOWUP_TARGETS"].items()}


def ratio(part: int, whole: int) -> Decimal | None:
    """A share to one decimal place of a percent, or None when nothing was counted."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


@dataclass
class Outcome:
    """One row of the follow-up page: a staff member, a branch, a channel, or everyone."""

    key: Any
    label: str
    maturities: int = 0  # call-back tasks in the period
    called: int = 0  # of them recorded
    participating: int = 0
    converted_to_policy: int = 0
    converted_to_deposit: int = 0
    universal_reached: int = 0
    universal_retained: int = 0
    complaints_answered: int = 0
    complaints_satisfied: int = 0
    complaints_open: int = 0
    complaints_overdue: int = 0

    def rate(self, measure: Measure) -> Decimal | None:
        """The measure's share for this row, or None when nothing was counted."""
        return ratio(getattr(self, measure.part), getattr(self, measure.whole))

    def __getattr__(self, name: str) -> Decimal | None:
        # ``row.policy_conversion`` and the like: each measure of ``MEASURES`` by its key.
        if name in _MEASURES:
            return self.rate(_MEASURES[name])
        raise AttributeError(name)


SPLITS = ("staff", "branch", "channel")


def _split_column(split: str | None):
    if split == "staff":
        return Customer.owner_id
    if split == "branch":
        return Customer.branch_id
    if split == "channel":
        return Customer.channel
    return sa.literal("all")


def _labels(split: str | None, keys) -> dict[Any, str]:
    if split == "staff":
        staff = db.session.scalars(sa.select(Staff).where(Staff.id.in_(list(keys)))).all()
        return {s.id: s.display_name or s.username for s in staff}
    if split == "branch":
        branches = db.session.scalars(sa.select(Branch).where(Branch.id.in_(list(keys)))).all()
        return {b.id: b.name for b in branches}
    if split == "channel":
        return {k: str(CHANNEL[Channel(k)]) for k in keys if k is not None}
    return {k: str(_l("Overall")) for k in keys}


def outcomes(
    user: Staff,
    start: date,
    end: date,
    split: str | None = None,
    *,
    now: datetime | None = None,
) -> list[Outcome]:
    """The seed 003 figures for the customers ``user`` may see, for maturities and complaint
    answers from ``start`` to ``end`` (inclusive), per ``split`` (staff, branch, channel) or
    overall. Open and overdue complaints are counted as of ``now``."""
    key = _split_column(split).label("key")
    scope = customer_scope(user)
    rows: dict[Any, Outcome] = {}
    _count_calls(rows, key, scope, start, end)
    _count_complaints(rows, key, scope, start, end, now or utcnow())
    labels = _labels(split, [k for k in rows if k is not None])
    for k, r in rows.items():
        r.label = labels.get(k, str(_l("Not recorded")))
    return sorted(rows.values(), key=lambda r: r.label)


def outcomes_keyed(
    scope: sa.ColumnElement[bool],
    start: date,
    end: date,
    calls_key: sa.ColumnElement,
    complaints_key: sa.ColumnElement,
    *,
    now: datetime | None = None,
) -> dict[Any, Outcome]:
    """The same figures as ``outcomes`` for the customers of ``scope``, grouped by any key
    of a call-back (``calls_key``) and of a complaint (``complaints_key``): the dashboard
    splits them by month, a maturity's and an answer's, in two queries."""
    rows: dict[Any, Outcome] = {}
    _count_calls(rows, calls_key.label("key"), scope, start, end)
    _count_complaints(rows, complaints_key.label("key"), scope, start, end, now or utcnow())
    return rows


def _count_if(*conditions):
    return sa.func.sum(sa.case((sa.and_(*conditions), 1), else_=0))


def _row(rows: dict[Any, Outcome], key: Any) -> Outcome:
    if key not in rows:
        rows[key] = Outcome(key, "")
    return rows[key]


def _count_calls(
    rows: dict[Any, Outcome], key: sa.Label, scope: sa.ColumnElement[bool], start: date, end: date
) -> None:
    """The call-back figures, by the policies maturing from ``start`` to ``end``."""
    participating = Policy.product_type == ProductType.PARTICIPATING
    universal = Policy.product_type == ProductType.UNIVERSAL
    intent = MaturityCallback.intent
    calls = db.session.execute(
        sa.select(
            key,
            sa.func.count(),
            _count_if(MaturityCallback.recorded_at.is_not(None)),
            _count_if(participating),
            _count_if(participating, intent == CallbackIntent.NEW_POLICY),
            _count_if(participating, intent == CallbackIntent.DEPOSIT),
            _count_if(universal, intent.is_not(None), intent != CallbackIntent.UNREACHABLE),
            _count_if(universal, intent.in_(RETAINED)),
        )
        .select_from(MaturityCallback)
        .join(Policy, Policy.id == MaturityCallback.policy_id)
        .join(Customer, Customer.id == MaturityCallback.customer_id)
        .where(scope, MaturityCallback.maturity_date.between(start, end))
        .group_by(key)
    )
    for k, total, called, part, to_policy, to_deposit, reached, retained in calls:
        r = _row(rows, k)
        r.maturities, r.called, r.participating = total, called or 0, part or 0
        r.converted_to_policy, r.converted_to_deposit = to_policy or 0, to_deposit or 0
        r.universal_reached, r.universal_retained = reached or 0, retained or 0


def _count_complaints(
    rows: dict[Any, Outcome],
    key: sa.Label,
    scope: sa.ColumnElement[bool],
    start: date,
    end: date,
    now: datetime,
) -> None:
    """The complaint figures: answered from ``start`` to ``end``, open and overdue at ``now``."""
    first, last = _day_bounds(start, end)
    answered_in_period = (Complaint.answered_at >= first, Complaint.answered_at < last)
    satisfied = sa.and_(
        Complaint.satisfied.is_(True),
        sa.func.coalesce(Complaint.non_routine_surrender, False).is_(False),
    )
    complaints = db.session.execute(
        sa.select(
            key,
            _count_if(*answered_in_period),
            _count_if(*answered_in_period, satisfied),
            _count_if(Complaint.answered_at.is_(None)),
            _count_if(Complaint.answered_at.is_(None), Complaint.due_at < now),
        )
        .select_from(Complaint)
        .join(Customer, Customer.id == Complaint.customer_id)
        .where(scope)
        .group_by(key)
    )
    for k, answered, happy, still_open, overdue in complaints:
        r = _row(rows, k)
        r.complaints_answered, r.complaints_satisfied = answered or 0, happy or 0
        r.complaints_open, r.complaints_overdue = still_open or 0, overdue or 0


def overall(rows: list[Outcome]) -> Outcome:
    """The sum of split rows (each customer is in exactly one)."""
    total = Outcome("all", str(_l("Overall")))
    for r in rows:
        for name in (
            "maturities",
            "called",
            "participating",
            "converted_to_policy",
            "converted_to_deposit",
            "universal_reached",
            "universal_retained",
            "complaints_answered",
            "complaints_satisfied",
            "complaints_open",
            "complaints_overdue",
        ):
            setattr(total, name, getattr(total, name) + getattr(r, name))
    return total


def _day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The instants that begin ``start`` and follow ``end`` in the business's zone."""
    zone = business_zone()
    first = datetime(start.year, start.month, start.day, tzinfo=zone)
    after = end + timedelta(days=1)
    last = datetime(after.year, after.month, after.day, tzinfo=zone)
    return first, last
