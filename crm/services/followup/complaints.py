"""Complaints (客户投诉, seed 003's 客户投诉情况统计表), answered definitely within 7 days.

Opening a complaint lowers the customer's willingness by the configured delta and may move
their quadrant, with the complaint as the cause. The answer records the handling opinion,
whether it ended in a non-routine surrender (非常规退保), and whether the customer is satisfied.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm
from flask import current_app
from flask_babel import lazy_gettext as _l

from crm.core import access, audit, reads
from crm.core.access import customer_scope
from crm.core.inputs import (
    InvalidInput,
    date_refusal,
    refuse_control_characters,
    refuse_too_long,
)
from crm.core.revisions import flush_revision, require_version
from crm.extensions import db
from crm.models import Complaint, Customer, Staff
from crm.models.base import utcnow
from crm.models.enums import MoveCause
from crm.services.customers import willingness

TEXT_LIMIT = 2000
# Complaints answered or due within this long are "due soon" in the digest and on the pages.
DUE_SOON = timedelta(days=1)


def sla() -> timedelta:
    return timedelta(days=int(current_app.config["CRM_COMPLAINT_SLA_DAYS"]))


def is_overdue(complaint: Complaint, now: datetime | None = None) -> bool:
    """Past its due time without an answer, or answered after it. Answering at the due
    instant itself is on time."""
    if complaint.answered_at is not None:
        return complaint.answered_at > complaint.due_at
    return (now or utcnow()) > complaint.due_at


ALREADY_ANSWERED = _l("This complaint has already been answered.")


def already_answered(complaint: Complaint) -> bool:
    """A complaint gets one definite answer."""
    return complaint.answered_at is not None


def _text(data: Mapping[str, Any], name: str, errors: dict, *, required=None) -> str | None:
    value = (data.get(name) or "").strip() or None
    if value is None and required is not None:
        errors[name] = required
    refuse_too_long({name: (value, TEXT_LIMIT)}, errors)
    return value


def _when(data: Mapping[str, Any], name: str, errors: dict, now: datetime) -> datetime:
    """An aware time from the form (empty: now); never in the future."""
    value = data.get(name)
    if value in (None, ""):
        return now
    if not isinstance(value, datetime) or value.tzinfo is None:
        errors[name] = _l("Enter a date and time.")
        return now
    refusal = date_refusal(value)
    if refusal is not None:
        errors[name] = refusal
        return now
    if value > now + timedelta(minutes=1):
        errors[name] = _l("This time is in the future.")
    return value


def open_complaint(user: Staff, customer: Customer, data: Mapping[str, Any]) -> Complaint:
    """Record a complaint (投诉要点, and when it came in); the caller commits."""
    now = utcnow()
    errors: dict[str, Any] = {}
    point = _text(data, "point", errors, required=_l("Say what the customer complains about."))
    opened_at = _when(data, "opened_at", errors, now)
    refuse_control_characters({"point": point}, errors)
    if errors:
        raise InvalidInput(errors)
    complaint = Complaint(
        customer=customer,
        point=point,
        opened_at=opened_at,
        due_at=opened_at + sla(),
        opened_by_id=user.id,
        version=1,
    )
    db.session.add(complaint)
    db.session.flush()
    audit.record(
        user,
        "complaint",
        complaint.id,
        "create",
        {
            "point": (None, point),
            "opened_at": (None, opened_at),
            "due_at": (None, complaint.due_at),
        },
        customer_id=customer.id,
        version=complaint.version,
    )
    willingness.nudge(
        user,
        customer,
        int(current_app.config["CRM_COMPLAINT_DELTA"]),
        MoveCause.COMPLAINT,
        f"complaint #{complaint.id}",
    )
    return complaint


def _yes_no(data: Mapping[str, Any], name: str, errors: dict) -> bool | None:
    value = data.get(name)
    if isinstance(value, bool):
        return value
    if value in ("y", "yes", "true", "1"):
        return True
    if value in ("n", "no", "false", "0"):
        return False
    errors[name] = _l("Answer yes or no.")
    return None


def answer_complaint(
    user: Staff, complaint: Complaint, data: Mapping[str, Any], expected_version: int
) -> None:
    """Record the definite answer (处理意见, 是否非常规退保, 是否满意); the caller commits."""
    if already_answered(complaint):
        raise InvalidInput({"": ALREADY_ANSWERED})
    require_version(complaint, expected_version, complaint.customer)
    now = utcnow()
    errors: dict[str, Any] = {}
    opinion = _text(
        data, "handling_opinion", errors, required=_l("Write down how the complaint was handled.")
    )
    surrender = _yes_no(data, "non_routine_surrender", errors)
    satisfied = _yes_no(data, "satisfied", errors)
    answered_at = _when(data, "answered_at", errors, now)
    if "answered_at" not in errors and answered_at < complaint.opened_at:
        errors["answered_at"] = _l("A complaint cannot be answered before it was opened.")
    refuse_control_characters({"handling_opinion": opinion}, errors)
    if errors:
        raise InvalidInput(errors)
    complaint.handling_opinion = opinion
    complaint.non_routine_surrender = surrender
    complaint.satisfied = satisfied
    complaint.answered_at = answered_at
    complaint.answered_by_id = user.id
    flush_revision(Complaint, complaint.id, expected_version)
    audit.record(
        user,
        "complaint",
        complaint.id,
        "answer",
        {
            "handling_opinion": (None, opinion),
            "non_routine_surrender": (None, surrender),
            "satisfied": (None, satisfied),
            "answered_at": (None, answered_at),
        },
        customer_id=complaint.customer_id,
        version=complaint.version,
    )


def get_complaint_or_404(complaint_id: int, user: Staff) -> Complaint:
    return access.get_of_customer_or_404(Complaint, complaint_id, user)


@dataclass
class ComplaintBoard:
    """Open complaints by due time (overdue first), and the recently answered."""

    open: list[Complaint]
    answered: list[Complaint]
    now: datetime

    @property
    def overdue(self) -> list[Complaint]:
        return [c for c in self.open if is_overdue(c, self.now)]

    @property
    def pressing(self) -> list[Complaint]:
        """Overdue, or due within ``DUE_SOON``: what a manager chases today."""
        return [c for c in self.open if c.due_at <= self.now + DUE_SOON]


def board(user: Staff, *, owner_only: bool = False, limit: int = 200) -> ComplaintBoard:
    """The complaints of the customers ``user`` may see (``owner_only``: the customers they
    own), open ones soonest due first."""
    scope = customer_scope(user) if not owner_only else Customer.owner_id == user.id
    base = (
        sa.select(Complaint)
        .join(Customer, Customer.id == Complaint.customer_id)
        .where(scope)
        .options(sa.orm.contains_eager(Complaint.customer))
    )
    still_open = db.session.scalars(
        base.where(Complaint.answered_at.is_(None))
        .order_by(Complaint.due_at, Complaint.id)
        .limit(limit)
    ).all()
    answered = db.session.scalars(
        base.where(Complaint.answered_at.is_not(None))
        .order_by(Complaint.answered_at.desc(), Complaint.id.desc())
        .limit(50)
    ).all()
    return ComplaintBoard(list(still_open), list(answered), utcnow())


@functools.cache
def _of_customer_statement() -> sa.Select:
    return (
        sa.select(*Complaint.__table__.c)
        .where(Complaint.customer_id == sa.bindparam("customer_id"))
        .order_by(Complaint.opened_at.desc())
    )


def for_customer(customer: Customer) -> Sequence[sa.Row]:
    """A customer's complaints, latest first (the dossier's)."""
    return reads.rows(_of_customer_statement(), customer_id=customer.id)
