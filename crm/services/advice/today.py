"""The today page (今日工作台): what a staff member's own customers need from them today.

One screen: planned experiences overdue and due today (routine SMS are the scheduler's), the
call-backs owed with the day's quota, complaints whose answer is due within a day or late,
customers who newly became high churn risk, and the best suggestions for a handful of
customers. Each list is short; its count links to the full list. Managers see the same for
the customers they own. Every read is by the owner's index, so the page costs the same in a
bank of a thousand customers or of a million.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from crm.core import reads
from crm.core.clock import local_today
from crm.models import Complaint, Customer, Experience, MaturityCallback, Policy, Staff
from crm.models.base import utcnow
from crm.models.enums import (
    ExperienceStatus,
    Quadrant,
    RelationshipStatus,
    Touchpoint,
)
from crm.services.advice import suggestions
from crm.services.followup import calls, complaints
from crm.services.management import approvals
from crm.services.retention import reasons, scoring

SHOWN = 8  # rows per section; the count links to the rest
SUGGESTED_CUSTOMERS = 5
CANDIDATES = 20  # customers looked at to find those with a suggestion
# A customer who became high risk after this many days ago is a new warning: since yesterday.
NEW_WARNING = timedelta(days=2)
# Pamper first: where strategic experiences weigh most, after churn risk.
QUADRANT_ORDER = (Quadrant.PAMPER, Quadrant.CULTIVATE, Quadrant.MAINTAIN, Quadrant.DEVELOP)


@dataclass
class TodayPage:
    today: date
    now: datetime
    experiences: Sequence[sa.Row]
    experiences_count: int
    overdue_count: int
    callbacks: calls.DayOfCallbacks
    complaints: Sequence[sa.Row]
    complaints_count: int
    warnings: Sequence[sa.Row]
    warnings_count: int
    reasons: dict[int, list[str]] = field(default_factory=dict)
    suggested: list[tuple[sa.Row, list[suggestions.Suggestion]]] = field(default_factory=list)
    # Approval requests waiting for a manager's decision (none for staff).
    approvals_waiting: int = 0


def _owned() -> sa.ColumnElement[bool]:
    return Customer.owner_id == sa.bindparam("owner_id")


# Each list carries its own total (a window count, taken before LIMIT): one statement a list.
TOTAL = sa.func.count().over().label("total")


@functools.cache
def _experiences_statement() -> sa.Select:
    overdue = sa.case((Experience.due_on < sa.bindparam("today", type_=sa.Date), 1), else_=0)
    return (
        sa.select(
            Experience.id,
            Experience.category,
            Experience.due_on,
            Experience.planned_cost,
            Customer.id.label("customer_id"),
            Customer.name,
            Customer.quadrant,
            TOTAL,
            sa.func.sum(overdue).over().label("overdue"),
        )
        .join(Customer, Customer.id == Experience.customer_id)
        .where(
            _owned(),
            Experience.status == ExperienceStatus.PLANNED,
            Experience.category != Touchpoint.ROUTINE,
            Experience.due_on <= sa.bindparam("today", type_=sa.Date),
        )
        .order_by(Experience.due_on, Experience.id)
        .limit(SHOWN)
    )


@functools.cache
def _complaints_statement() -> sa.Select:
    """Unanswered complaints due within ``complaints.DUE_SOON`` or overdue."""
    return (
        sa.select(
            Complaint.id,
            Complaint.point,
            Complaint.due_at,
            Customer.id.label("customer_id"),
            Customer.name,
            TOTAL,
        )
        .join(Customer, Customer.id == Complaint.customer_id)
        .where(
            _owned(),
            Complaint.answered_at.is_(None),
            Complaint.due_at <= sa.bindparam("soon", type_=Complaint.due_at.type),
        )
        .order_by(Complaint.due_at, Complaint.id)
        .limit(SHOWN)
    )


def _new_warnings(user: Staff, today: date) -> sa.Select:
    """The customers who became high churn risk yesterday or today (retention's rule)."""
    return (
        scoring.became_high_since(today - NEW_WARNING, owner_id=user.id)
        .add_columns(Customer.quadrant, Customer.churn_reasons, TOTAL)
        .limit(SHOWN)
    )


@functools.cache
def _callbacks_statement() -> sa.Select:
    """The open call-backs (followup's), most urgent first, with their total and the quota's
    progress today riding along."""
    done = calls.done_on(sa.bindparam("owner_id"), sa.bindparam("today", type_=sa.Date))
    return (
        calls.open_callbacks_query(sa.bindparam("owner_id"))
        .with_only_columns(
            MaturityCallback.id,
            MaturityCallback.maturity_date,
            Customer.id.label("customer_id"),
            Customer.name,
            Policy.policy_number,
            TOTAL,
            done.scalar_subquery().label("done"),
        )
        .join(Policy, Policy.id == MaturityCallback.policy_id)
        .order_by(MaturityCallback.maturity_date, MaturityCallback.id)
        .limit(SHOWN)
    )


def _callbacks(user: Staff, today: date) -> calls.DayOfCallbacks:
    rows = reads.rows(_callbacks_statement(), owner_id=user.id, today=today)
    # With nothing open, the progress alone.
    done = rows[0].done if rows else reads.scalar(calls.done_on(user.id, today))
    return calls.DayOfCallbacks(list(rows), _total(rows), done, calls.daily_quota(), today)


def _total(rows: Sequence[sa.Row]) -> int:
    return rows[0].total if rows else 0


@functools.cache
def _candidates_statement() -> sa.Select:
    """The customers whose suggestions the page shows: highest churn risk first, then the
    quadrants where strategic experiences weigh most."""
    rank = sa.case(*((Customer.quadrant == q, i) for i, q in enumerate(QUADRANT_ORDER)))
    return (
        sa.select(*Customer.__table__.c)
        .where(_owned(), Customer.relationship_status != RelationshipStatus.LOST)
        .order_by(sa.func.coalesce(Customer.churn_score, -1).desc(), rank, Customer.id)
        .limit(CANDIDATES)
    )


def today_page(user: Staff, today: date | None = None) -> TodayPage:
    """The signed-in staff member's today page, for the customers they own."""
    today = today or local_today()
    now = utcnow()
    owner = {"owner_id": user.id}
    soon = now + complaints.DUE_SOON
    due = reads.rows(_experiences_statement(), today=today, **owner)
    pressing = reads.rows(_complaints_statement(), soon=soon, **owner)
    warnings = reads.rows(_new_warnings(user, today))
    page = TodayPage(
        today=today,
        now=now,
        experiences=due,
        experiences_count=_total(due),
        overdue_count=int(due[0].overdue) if due else 0,
        callbacks=_callbacks(user, today),
        complaints=pressing,
        complaints_count=_total(pressing),
        warnings=warnings,
        warnings_count=_total(warnings),
        approvals_waiting=approvals.waiting_count(user),
    )
    page.reasons = {w.id: reasons.describe_all(w.churn_reasons) for w in page.warnings}
    candidates = reads.rows(_candidates_statement(), **owner)
    found = suggestions.for_customers(candidates, today)
    page.suggested = [(c, found[c.id][:1]) for c in candidates if found[c.id]][:SUGGESTED_CUSTOMERS]
    return page
