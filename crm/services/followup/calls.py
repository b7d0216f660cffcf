"""Maturity follow-up (满期客户二次开发, seed 003): call-back tasks, recording them, the targets.

Each day the maturity scan turns policies maturing up to the end of next month into call-back
tasks, one per policy maturity. A relationship manager works through them most urgent first,
at least 20 a day (the seed's 每日电话回访量最低20访). A recorded call-back is a routine-service
experience with its cost, so the customer's budget, history and re-tiering see it; the intent
moves willingness like an experience response.

The seed's targets, computed here for every page and notebook:

- policy conversion: 20% of participating-policy maturities converted to a new policy;
- deposit conversion: 30% of participating-policy maturities converted to a deposit;
- universal-life retention: at least 60% of universal-life holders called keep their policy
  (renew, convert to a new policy, or not yet decided), among those reached;
- satisfaction: at least 80% of answered complaints end satisfied, and a complaint that ends in
  a non-routine surrender never counts as satisfied (满意客户指未处理至非常规退保或赔偿客户).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm
from flask import current_app
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite

from crm.core import access, audit, reads
from crm.core.access import customer_scope
from crm.core.clock import business_zone, local_today
from crm.core.inputs import InvalidInput, refuse_control_characters
from crm.core.revisions import flush_revision, stale
from crm.extensions import db
from crm.labels import CHANNEL
from crm.models import (
    Branch,
    Complaint,
    Customer,
    Experience,
    MaturityCallback,
    Policy,
    Product,
    Staff,
)
from crm.models.base import utcnow
from crm.models.enums import (
    CallbackIntent,
    Channel,
    ExperienceStatus,
    PlanOrigin,
    PolicyStatus,
    ProductType,
    Response,
    Touchpoint,
)
from crm.services.customers import suitability
from crm.services.experiences.recording import Recorded, record_experience
from crm.services.planning import matrix

NOTE_LIMIT = 1500  # leaves room in the experience's notes for the call-back's own line

# How the intent a customer states moves willingness, as an experience response would.
INTENT_RESPONSE = {
    CallbackIntent.RENEW: Response.POSITIVE,
    CallbackIntent.NEW_POLICY: Response.ENTHUSIASTIC,
    CallbackIntent.DEPOSIT: Response.NEUTRAL,
    CallbackIntent.SURRENDER: Response.NEGATIVE,
    CallbackIntent.UNDECIDED: Response.NEUTRAL,
    CallbackIntent.UNREACHABLE: Response.NO_RESPONSE,
}

# Universal-life holders who keep their policy (the retention target's numerator).
RETAINED = (CallbackIntent.RENEW, CallbackIntent.NEW_POLICY, CallbackIntent.UNDECIDED)


def daily_quota() -> int:
    return int(current_app.config["CRM_CALLBACK_DAILY_QUOTA"])


def targets_config() -> dict[str, Decimal]:
    return {k: Decimal(str(v)) for k, v in current_app.config["CRM_FOLLOWUP_TARGETS"].items()}


# --- the scan --------------------------------------------------------------------------------


def scan_window(today: date) -> tuple[date, date]:
    """From the first of this month to the end of next month (seed 003: 次月的满期客户).

    Starting at the first of the month keeps a day the scheduler was down from losing the
    policies that matured that day; each maturity still makes one task only.
    """
    first = today.replace(day=1)
    after_next = (first + timedelta(days=62)).replace(day=1)
    return first, after_next - timedelta(days=1)


def maturity_scan(today: date | None = None) -> int:
    """Make the call-back tasks for policies maturing in the window; return how many are new.

    Set-based and idempotent (a unique key per policy maturity; concurrent scans skip what
    the other inserted). The caller commits.
    """
    today = today or local_today()
    start, end = scan_window(today)
    table = MaturityCallback.__table__
    source = (
        sa.select(
            Policy.id,
            Policy.customer_id,
            Customer.owner_id,
            Policy.maturity_date,
            sa.literal(utcnow(), MaturityCallback.created_at.type),
            sa.literal(1),
        )
        .join(Customer, Customer.id == Policy.customer_id)
        .where(
            Policy.status == PolicyStatus.IN_FORCE,
            Policy.maturity_date.between(start, end),
        )
    )
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(table)
        .from_select(
            ["policy_id", "customer_id", "owner_id", "maturity_date", "created_at", "version"],
            source,
        )
        .on_conflict_do_nothing(index_elements=["policy_id", "maturity_date"])
        .returning(table.c.id)
    )
    return len(db.session.execute(statement).all())


# --- a staff member's list ---------------------------------------------------------------------


@dataclass
class DayOfCallbacks:
    """A staff member's call-backs: what is open, most urgent first, and today's progress."""

    open: list[MaturityCallback]
    open_count: int
    done_today: int
    quota: int
    today: date

    @property
    def remaining_today(self) -> int:
        return max(0, self.quota - self.done_today)


def open_callbacks_query(owner_id: int) -> sa.Select:
    return (
        sa.select(MaturityCallback)
        .join(Customer, Customer.id == MaturityCallback.customer_id)
        .where(Customer.owner_id == owner_id, MaturityCallback.recorded_at.is_(None))
    )


def day_of_callbacks(user: Staff, today: date | None = None, limit: int = 100) -> DayOfCallbacks:
    """The call-backs a staff member owes: the customers they own whose policies mature,
    earliest maturity first (most urgent), with the day's quota and how many are done."""
    today = today or local_today()
    query = open_callbacks_query(user.id)
    rows = db.session.scalars(
        query.order_by(MaturityCallback.maturity_date, MaturityCallback.id)
        .options(
            sa.orm.contains_eager(MaturityCallback.customer),
            sa.orm.joinedload(MaturityCallback.policy),
        )
        .limit(limit)
    ).all()
    open_count = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    done_today = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(MaturityCallback)
        .where(MaturityCallback.recorded_by_id == user.id, MaturityCallback.recorded_on == today)
    )
    return DayOfCallbacks(list(rows), open_count or 0, done_today or 0, daily_quota(), today)


@functools.cache
def _open_of_customer_statement() -> sa.Select:
    return (
        sa.select(
            MaturityCallback.id,
            MaturityCallback.maturity_date,
            Policy.policy_number,
            Policy.product_name,
        )
        .join(Policy, Policy.id == MaturityCallback.policy_id)
        .where(
            MaturityCallback.customer_id == sa.bindparam("customer_id"),
            MaturityCallback.recorded_at.is_(None),
        )
        .order_by(MaturityCallback.maturity_date, MaturityCallback.id)
    )


def open_for_customer(customer: Customer) -> Sequence[sa.Row]:
    """The customer's call-backs not yet recorded, earliest maturity first (the dossier's):
    ``id``, ``maturity_date`` and the policy's ``policy_number`` and ``product_name``."""
    return reads.rows(_open_of_customer_statement(), customer_id=customer.id)


def get_callback_or_404(callback_id: int, user: Staff) -> MaturityCallback:
    """A call-back the user may record: one for a customer in their scope (else 404)."""
    return access.get_of_customer_or_404(MaturityCallback, callback_id, user)


# --- suggestions by age (seed 003) -------------------------------------------------------------


@dataclass
class Hint:
    band: LazyString
    advice: LazyString
    products: list[Product] = field(default_factory=list)
    deposit: bool = False


AGE_BANDS = (
    (
        20,
        30,
        _l("20–30"),
        _l("protection and accident cover"),
        (ProductType.ACCIDENT, ProductType.MEDICAL, ProductType.CRITICAL_ILLNESS),
    ),
    (
        31,
        40,
        _l("31–40"),
        _l("children's education"),
        (ProductType.ANNUITY, ProductType.PARTICIPATING),
    ),
    (
        41,
        50,
        _l("41–50"),
        _l("pension planning"),
        (ProductType.ANNUITY, ProductType.UNIVERSAL),
    ),
    (
        51,
        60,
        _l("51–60"),
        _l("a steady fixed return"),
        (ProductType.PARTICIPATING, ProductType.WHOLE_LIFE),
    ),
)


def age_on(birth_date: date | None, today: date) -> int | None:
    if birth_date is None:
        return None
    return (
        today.year
        - birth_date.year
        - ((today.month, today.day) < (birth_date.month, birth_date.day))
    )


def hint_for(
    customer: Customer, today: date | None = None, shelf: list[Product] | None = None
) -> Hint | None:
    """Seed 003's suggestion for the customer's age, narrowed to products they may be offered.

    From 61 the seed advises converting to a deposit: money at hand suits older customers.
    ``shelf``: the active products, read once by a caller hinting for a whole list.
    """
    age = age_on(customer.birth_date, today or local_today())
    if age is None or age < 20:
        return None
    if age > 60:
        return Hint(_l("61 and over"), _l("convert to a deposit"), deposit=True)
    for low, high, band, advice, types in AGE_BANDS:
        if low <= age <= high:
            suitable = (
                suitability.suitable_products(customer)
                if shelf is None
                else [p for p in shelf if suitability.allows(customer.risk_level, p.risk_level)]
            )
            products = [p for p in suitable if p.product_type in types]
            return Hint(band, advice, products)
    return None


# --- recording a call-back -----------------------------------------------------------------------


def _note(data: Mapping[str, Any], name: str, errors: dict) -> str | None:
    value = (data.get(name) or "").strip() or None
    if value is not None and len(value) > NOTE_LIMIT:
        errors[name] = _l("At most %(n)d characters.", n=NOTE_LIMIT)
    return value


def record_callback(
    user: Staff, callback: MaturityCallback, data: Mapping[str, Any], expected_version: int
) -> Recorded:
    """Record a call-back (有效回访) and the contact it was; the caller commits.

    ``data``: intent (one of ``CallbackIntent``), maturity_note, conversion_note, remarks,
    product_id (a product suggested, within the customer's risk level). The call is kept as a
    routine-service experience held today at the category's unit cost, its response taken
    from the intent, so willingness and the quadrant move as after any experience.
    """
    customer = callback.customer
    if callback.recorded_at is not None:
        raise InvalidInput({"": _l("This call-back has already been recorded.")})
    if callback.version != expected_version:
        raise stale(customer, "customer", customer.id, customer.version)
    errors: dict[str, Any] = {}
    try:
        intent = CallbackIntent(data.get("intent") or "")
    except ValueError:
        errors["intent"] = _l("Choose one of the listed values.")
        intent = None
    notes = {
        name: _note(data, name, errors) for name in ("maturity_note", "conversion_note", "remarks")
    }
    product = suitability.shelf_product(data.get("product_id"), "product_id", errors)
    suitability.check_product(customer, product, "product_id", errors)
    refuse_control_characters(notes, errors)
    if errors:
        raise InvalidInput(errors)

    today = local_today()
    cost = matrix.unit_cost(Touchpoint.ROUTINE)
    experience = Experience(
        customer=customer,
        category=Touchpoint.ROUTINE,
        status=ExperienceStatus.PLANNED,
        origin=PlanOrigin.STAFF,
        due_on=today,
        planned_cost=cost,
        product_id=product.id if product else None,
        created_by_id=user.id,
        version=1,
    )
    db.session.add(experience)
    db.session.flush()
    unreachable = intent == CallbackIntent.UNREACHABLE
    # Written in the recorder's language, as if they had typed it.
    line = _("Maturity call-back, policy %(number)s", number=callback.policy.policy_number)
    recorded = record_experience(
        user,
        experience,
        {
            "outcome": (ExperienceStatus.NO_SHOW if unreachable else ExperienceStatus.DONE).value,
            "held_on": today,
            "response": INTENT_RESPONSE[intent].value,
            "actual_cost": str(cost),
            "notes": "\n".join(filter(None, (line, notes["remarks"]))),
        },
        experience.version,
        customer.version,
    )
    before = {"intent": None, **{name: None for name in notes}, "product_id": None}
    callback.intent = intent
    callback.maturity_note = notes["maturity_note"]
    callback.conversion_note = notes["conversion_note"]
    callback.remarks = notes["remarks"]
    callback.product_id = product.id if product else None
    callback.experience_id = experience.id
    callback.recorded_at = utcnow()
    callback.recorded_on = today
    callback.recorded_by_id = user.id
    flush_revision(MaturityCallback, callback.id, expected_version)
    audit.record(
        user,
        "maturity_callback",
        callback.id,
        "record",
        audit.diff(
            before,
            {"intent": intent, **notes, "product_id": callback.product_id},
        ),
        customer_id=customer.id,
        version=callback.version,
    )
    return recorded


# --- outcomes against the seed's targets ---------------------------------------------------------


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

    @property
    def policy_conversion(self) -> Decimal | None:
        return ratio(self.converted_to_policy, self.participating)

    @property
    def deposit_conversion(self) -> Decimal | None:
        return ratio(self.converted_to_deposit, self.participating)

    @property
    def universal_retention(self) -> Decimal | None:
        return ratio(self.universal_retained, self.universal_reached)

    @property
    def satisfaction(self) -> Decimal | None:
        return ratio(self.complaints_satisfied, self.complaints_answered)


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
    now = now or utcnow()
    key = _split_column(split).label("key")
    scope = customer_scope(user)
    participating = Policy.product_type == ProductType.PARTICIPATING
    universal = Policy.product_type == ProductType.UNIVERSAL
    intent = MaturityCallback.intent

    def count_if(*conditions):
        return sa.func.sum(sa.case((sa.and_(*conditions), 1), else_=0))

    calls = db.session.execute(
        sa.select(
            key,
            sa.func.count(),
            count_if(MaturityCallback.recorded_at.is_not(None)),
            count_if(participating),
            count_if(participating, intent == CallbackIntent.NEW_POLICY),
            count_if(participating, intent == CallbackIntent.DEPOSIT),
            count_if(universal, intent.is_not(None), intent != CallbackIntent.UNREACHABLE),
            count_if(universal, intent.in_(RETAINED)),
        )
        .select_from(MaturityCallback)
        .join(Policy, Policy.id == MaturityCallback.policy_id)
        .join(Customer, Customer.id == MaturityCallback.customer_id)
        .where(scope, MaturityCallback.maturity_date.between(start, end))
        .group_by(key)
    )
    rows: dict[Any, Outcome] = {}

    def row(k) -> Outcome:
        if k not in rows:
            rows[k] = Outcome(k, "")
        return rows[k]

    for k, total, called, part, to_policy, to_deposit, reached, retained in calls:
        r = row(k)
        r.maturities, r.called, r.participating = total, called or 0, part or 0
        r.converted_to_policy, r.converted_to_deposit = to_policy or 0, to_deposit or 0
        r.universal_reached, r.universal_retained = reached or 0, retained or 0

    first, last = _day_bounds(start, end)
    satisfied = sa.and_(
        Complaint.satisfied.is_(True),
        sa.func.coalesce(Complaint.non_routine_surrender, False).is_(False),
    )
    complaints = db.session.execute(
        sa.select(
            key,
            count_if(Complaint.answered_at >= first, Complaint.answered_at < last),
            count_if(Complaint.answered_at >= first, Complaint.answered_at < last, satisfied),
            count_if(Complaint.answered_at.is_(None)),
            count_if(Complaint.answered_at.is_(None), Complaint.due_at < now),
        )
        .select_from(Complaint)
        .join(Customer, Customer.id == Complaint.customer_id)
        .where(scope)
        .group_by(key)
    )
    for k, answered, happy, still_open, overdue in complaints:
        r = row(k)
        r.complaints_answered, r.complaints_satisfied = answered or 0, happy or 0
        r.complaints_open, r.complaints_overdue = still_open or 0, overdue or 0

    labels = _labels(split, [k for k in rows if k is not None])
    for k, r in rows.items():
        r.label = labels.get(k, str(_l("Not recorded")))
    return sorted(rows.values(), key=lambda r: r.label)


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
