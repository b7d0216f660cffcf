"""Maturity call-backs (满期客户二次开发, seed 003): the tasks, the day's quota, recording them.

Each day the maturity scan turns policies maturing up to the end of next month into call-back
tasks, one per policy maturity. A relationship manager works through them most urgent first,
at least 20 a day (the seed's 每日电话回访量最低20访). A recorded call-back is a routine-service
experience with its cost, so the customer's budget, history and re-tiering see it; the intent
moves willingness like an experience response. What to suggest by age is in ``hints``; the
measures against the seed's targets in ``targets``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite

from crm.core import access, audit, reads
from crm.core.clock import local_today
from crm.core.inputs import InvalidInput, refuse_control_characters, refuse_too_long
from crm.core.revisions import flush_revision, stale
from crm.extensions import db
from crm.models import Customer, Experience, MaturityCallback, Policy, Product, Staff
from crm.models.base import utcnow
from crm.models.enums import (
    CallbackIntent,
    ExperienceStatus,
    PlanOrigin,
    PolicyStatus,
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


def daily_quota() -> int:
    """The call-backs each staff member is to make a day, at least (seed 003)."""
    return int(current_app.config["CRM_CALLBACK_DAILY_QUOTA"])


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


def done_on(staff_id, day) -> sa.Select:
    """How many call-backs a staff member recorded on ``day`` (the quota's progress); either
    may be a bound parameter."""
    return (
        sa.select(sa.func.count())
        .select_from(MaturityCallback)
        .where(MaturityCallback.recorded_by_id == staff_id, MaturityCallback.recorded_on == day)
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
    done_today = db.session.scalar(done_on(user.id, today))
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


# --- recording a call-back -----------------------------------------------------------------------


ALREADY_RECORDED = _l("This call-back has already been recorded.")


def already_recorded(callback: MaturityCallback) -> bool:
    """A call-back is recorded once."""
    return callback.recorded_at is not None


def _note(data: Mapping[str, Any], name: str, errors: dict) -> str | None:
    value = (data.get(name) or "").strip() or None
    refuse_too_long({name: (value, NOTE_LIMIT)}, errors)
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
    if already_recorded(callback):
        raise InvalidInput({"": ALREADY_RECORDED})
    if callback.version != expected_version:
        raise stale(customer, "customer", customer.id, customer.version)
    intent, notes, product = _read_callback(customer, data)

    today = local_today()
    experience = _routine_contact(user, customer, product, today)
    recorded = _record_contact(user, callback, experience, intent, notes["remarks"], today)
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


def _read_callback(
    customer: Customer, data: Mapping[str, Any]
) -> tuple[CallbackIntent, dict[str, str | None], Product | None]:
    """The intent, the three notes and the product suggested, or the refusal with every error."""
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
    return intent, notes, product


def _routine_contact(
    user: Staff, customer: Customer, product: Product | None, today: date
) -> Experience:
    """The routine-service experience the call is, planned for today at the unit cost."""
    experience = Experience(
        customer=customer,
        category=Touchpoint.ROUTINE,
        status=ExperienceStatus.PLANNED,
        origin=PlanOrigin.STAFF,
        due_on=today,
        planned_cost=matrix.unit_cost(Touchpoint.ROUTINE),
        product_id=product.id if product else None,
        created_by_id=user.id,
        version=1,
    )
    db.session.add(experience)
    db.session.flush()
    return experience


def _record_contact(
    user: Staff,
    callback: MaturityCallback,
    experience: Experience,
    intent: CallbackIntent,
    remarks: str | None,
    today: date,
) -> Recorded:
    """Record the call as any experience is recorded: held today (a no-show when the customer
    could not be reached), the response taken from the intent, the dossier revised with it."""
    unreachable = intent == CallbackIntent.UNREACHABLE
    # Written in the recorder's language, as if they had typed it.
    line = _("Maturity call-back, policy %(number)s", number=callback.policy.policy_number)
    return record_experience(
        user,
        experience,
        {
            "outcome": (ExperienceStatus.NO_SHOW if unreachable else ExperienceStatus.DONE).value,
            "held_on": today,
            "response": INTENT_RESPONSE[intent].value,
            "actual_cost": str(experience.planned_cost),
            "notes": "\n".join(filter(None, (line, remarks))),
        },
        experience.version,
        experience.customer.version,
    )
