"""A dossier's activity (客户动态): everything that happened with one customer, newest first.

Six kinds, each read by one statement limited to what the page needs and merged here:
experiences held, no-shows and cancellations; SMS from the outbox; recorded maturity
call-backs; complaints, opened and answered; quadrant moves (read by the dossier page
already, passed in); and edits, the audit log's rows of one change taken together.

Nothing is shown twice: an experience closed by an outbox SMS is its SMS, one recorded by a
call-back is that call-back, and the audit rows of a recorded experience, a complaint or a
call-back are those rows themselves. Pages are numbered: one customer's activity is a few
hundred rows at most, and each kind reads only the newest ``page × size + 1`` of its own.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

import sqlalchemy as sa
import sqlalchemy.orm

from crm.core import reads
from crm.core.clock import business_zone, local_today
from crm.models import (
    AuditLog,
    Complaint,
    Experience,
    GroupEvent,
    MaturityCallback,
    OutboxMessage,
    Policy,
    Staff,
)
from crm.models.enums import ExperienceStatus, MessagePurpose

# In the order the filter offers them.
KINDS = ("experience", "sms", "callback", "complaint", "move", "edit")
PAGE_SIZE = 20
# Deeper than this, the page asks for more rows than any customer's activity holds.
MAX_PAGE = 100

# Audit rows that another kind shows in words of its own.
_SHOWN_ELSEWHERE = (("experience", "record"),)
_OWN_KIND_ENTITIES = ("complaint", "maturity_callback")


@dataclass(frozen=True)
class Entry:
    kind: str
    at: datetime  # when (aware): what the timeline is ordered by
    row: sa.Row
    # A complaint is two entries: "opened", and "answered" once it is.
    step: str = ""
    # An experience's day (it has no time of day); None for the other kinds.
    day: date | None = None


@dataclass(frozen=True)
class Timeline:
    entries: list[Entry]
    kind: str | None  # None: every kind
    page: int
    has_more: bool


def read_kind(raw: str | None) -> str | None:
    """The kind asked for in a query string; anything else means every kind."""
    return raw if raw in KINDS else None


def read_page(raw: str | None) -> int:
    """The page asked for in a query string (1 when it is not a page number)."""
    try:
        page = int(raw or 1)
    except ValueError:
        return 1
    return min(max(page, 1), MAX_PAGE)


def _start_of(day: date, today: date) -> datetime:
    # An experience has a day, not a time: it sorts at the start of that day where the
    # business is, so what it caused that day (a move, an edit) comes after it. One cancelled
    # before its day sorts as cancelled today (when exactly is not kept).
    return datetime.combine(min(day, today), time.min, tzinfo=business_zone())


def _absent(model, *conditions) -> sa.ColumnElement[bool]:
    return ~sa.select(sa.literal_column("1")).select_from(model).where(*conditions).exists()


@functools.cache
def _experience_statement() -> sa.Select:
    recorder = sa.orm.aliased(Staff)
    day = sa.func.coalesce(Experience.held_on, Experience.due_on)
    return (
        sa.select(
            Experience.id,
            Experience.category,
            Experience.status,
            Experience.response,
            Experience.actual_cost,
            Experience.notes,
            day.label("day"),
            GroupEvent.title.label("event_title"),
            recorder.display_name.label("actor_name"),
        )
        .outerjoin(GroupEvent, GroupEvent.id == Experience.group_event_id)
        .outerjoin(recorder, recorder.id == Experience.recorded_by_id)
        .where(
            Experience.customer_id == sa.bindparam("customer_id"),
            Experience.status != ExperienceStatus.PLANNED,
            _absent(OutboxMessage, OutboxMessage.experience_id == Experience.id),
            # Through the customer's call-backs (indexed), not the experience column (not).
            _absent(
                MaturityCallback,
                MaturityCallback.customer_id == sa.bindparam("customer_id"),
                MaturityCallback.experience_id == Experience.id,
            ),
        )
        .order_by(day.desc(), Experience.id.desc())
        .limit(sa.bindparam("limit"))
    )


@functools.cache
def _sms_statement() -> sa.Select:
    at = sa.func.coalesce(OutboxMessage.sent_at, OutboxMessage.created_at)
    return (
        sa.select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.body, at.label("at"))
        .where(
            OutboxMessage.customer_id == sa.bindparam("customer_id"),
            OutboxMessage.purpose == MessagePurpose.MARKETING,
        )
        .order_by(at.desc(), OutboxMessage.id.desc())
        .limit(sa.bindparam("limit"))
    )


@functools.cache
def _callback_statement() -> sa.Select:
    return (
        sa.select(
            MaturityCallback.id,
            MaturityCallback.intent,
            MaturityCallback.maturity_date,
            MaturityCallback.maturity_note,
            MaturityCallback.conversion_note,
            MaturityCallback.remarks,
            MaturityCallback.recorded_at.label("at"),
            Policy.policy_number,
            Policy.product_name,
            Staff.display_name.label("actor_name"),
        )
        .join(Policy, Policy.id == MaturityCallback.policy_id)
        .outerjoin(Staff, Staff.id == MaturityCallback.recorded_by_id)
        .where(
            MaturityCallback.customer_id == sa.bindparam("customer_id"),
            MaturityCallback.recorded_at.is_not(None),
        )
        .order_by(MaturityCallback.recorded_at.desc(), MaturityCallback.id.desc())
        .limit(sa.bindparam("limit"))
    )


@functools.cache
def _complaint_statement() -> sa.Select:
    latest = sa.func.coalesce(Complaint.answered_at, Complaint.opened_at)
    return (
        sa.select(
            Complaint.id,
            Complaint.point,
            Complaint.opened_at,
            Complaint.due_at,
            Complaint.handling_opinion,
            Complaint.answered_at,
            Complaint.satisfied,
            Complaint.non_routine_surrender,
        )
        .where(Complaint.customer_id == sa.bindparam("customer_id"))
        .order_by(latest.desc(), Complaint.id.desc())
        .limit(sa.bindparam("limit"))
    )


@functools.cache
def _edit_statement() -> sa.Select:
    # One change writes a row per field, all with the entity's new version: taken together
    # they are one entry. Rows without a version (a phone number viewed) stand alone.
    change = sa.case((AuditLog.version.is_(None), -AuditLog.id), else_=AuditLog.version)
    last_id = sa.func.max(AuditLog.id)
    return (
        sa.select(
            last_id.label("id"),
            AuditLog.entity,
            AuditLog.entity_id,
            AuditLog.action,
            sa.func.max(AuditLog.at).label("at"),
            sa.func.max(AuditLog.reason).label("reason"),
            sa.func.aggregate_strings(sa.func.coalesce(AuditLog.field, ""), ",").label("fields"),
            Staff.display_name.label("actor_name"),
        )
        .outerjoin(Staff, Staff.id == AuditLog.actor_id)
        .where(
            AuditLog.customer_id == sa.bindparam("customer_id"),
            AuditLog.entity.not_in(_OWN_KIND_ENTITIES),
            *(
                sa.not_(sa.and_(AuditLog.entity == entity, AuditLog.action == action))
                for entity, action in _SHOWN_ELSEWHERE
            ),
        )
        .group_by(
            AuditLog.entity,
            AuditLog.entity_id,
            AuditLog.action,
            change,
            AuditLog.actor_id,
            Staff.display_name,
        )
        .order_by(last_id.desc())
        .limit(sa.bindparam("limit"))
    )


def _experiences(customer_id: int, limit: int, _moves) -> list[Entry]:
    rows = reads.rows(_experience_statement(), customer_id=customer_id, limit=limit)
    today = local_today()
    return [Entry("experience", _start_of(r.day, today), r, day=r.day) for r in rows]


def _sms(customer_id: int, limit: int, _moves) -> list[Entry]:
    rows = reads.rows(_sms_statement(), customer_id=customer_id, limit=limit)
    return [Entry("sms", r.at, r) for r in rows]


def _callbacks(customer_id: int, limit: int, _moves) -> list[Entry]:
    rows = reads.rows(_callback_statement(), customer_id=customer_id, limit=limit)
    return [Entry("callback", r.at, r) for r in rows]


def _complaints(customer_id: int, limit: int, _moves) -> list[Entry]:
    entries = []
    for r in reads.rows(_complaint_statement(), customer_id=customer_id, limit=limit):
        entries.append(Entry("complaint", r.opened_at, r, step="opened"))
        if r.answered_at is not None:
            entries.append(Entry("complaint", r.answered_at, r, step="answered"))
    return entries


def _moves(_customer_id: int, limit: int, moves: Sequence[sa.Row]) -> list[Entry]:
    return [Entry("move", r.at, r) for r in moves[:limit]]


def _edits(customer_id: int, limit: int, _moves) -> list[Entry]:
    rows = reads.rows(_edit_statement(), customer_id=customer_id, limit=limit)
    return [Entry("edit", r.at, r) for r in rows]


_READERS: dict[str, Callable[[int, int, Sequence[sa.Row]], list[Entry]]] = {
    "experience": _experiences,
    "sms": _sms,
    "callback": _callbacks,
    "complaint": _complaints,
    "move": _moves,
    "edit": _edits,
}


def timeline(
    customer_id: int,
    moves: Sequence[sa.Row],
    kind: str | None = None,
    page: int = 1,
    size: int | None = None,
    none_of: Collection[str] = (),
) -> Timeline:
    """Page ``page`` of the customer's activity, newest first, of one kind or all, of
    ``size`` entries (``PAGE_SIZE``).

    ``moves``: the customer's quadrant moves, newest first (``tiering.movement``);
    ``none_of``: kinds the caller knows the customer has none of (no statement for them)."""
    size = size or PAGE_SIZE
    wanted = page * size + 1
    entries: list[Entry] = []
    for name in (kind,) if kind else KINDS:
        if name not in none_of:
            entries.extend(_READERS[name](customer_id, wanted, moves))
    entries.sort(key=lambda e: (e.at, e.row.id), reverse=True)
    start = (page - 1) * size
    return Timeline(entries[start : start + size], kind, page, has_more=len(entries) > page * size)
