"""A staff member's notifications (通知): writing them once, copying them to phone and e-mail,
and reading them (the list, the unread count, marking read).

Every notification has an idempotency key (one digest per staff member and day, one reminder
per experience), so a job that runs twice, or two schedulers at once, creates nothing twice.
Where a staff member has switched it on, a short copy also goes to their own phone or e-mail
through the outbox, under its own key, in the same transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from crm.core import reads
from crm.core.idempotent import insert_new
from crm.extensions import db
from crm.models import Notification, Staff
from crm.models.base import utcnow
from crm.models.enums import NotificationKind
from crm.services.outreach.enqueue import enqueue_staff_message

TITLE_LIMIT = 200  # Notification.title


def locale_of(staff: Staff) -> str:
    """The language a staff member reads notifications in: their choice, else Chinese."""
    return staff.language or "zh_CN"


@dataclass
class Message:
    """A notification as its reader sees it, and the short copies for their phone and e-mail."""

    title: str
    body: str
    sms: str

    @property
    def email(self) -> str:
        return f"{self.title}\n\n{self.body}"


# --- writing them --------------------------------------------------------------------------


def _insert_ignoring_duplicates(rows: list[dict]) -> set[str]:
    """Insert notifications; one whose key exists is left as it is. Returns the new keys."""
    return set(insert_new(Notification.__table__, rows))


def _copy_to_phone_and_email(staff: Staff, key: str, message: Message, now: datetime) -> None:
    """Queue copies to the staff member's own phone and e-mail, where they switched it on.

    Their keys follow the notification's: ``digest:7:2026-11-23`` → ``digest-sms:7:2026-11-23``.
    """
    kind, rest = key.split(":", 1)
    if staff.notify_by_sms and staff.phone:
        enqueue_staff_message(staff, f"{kind}-sms:{rest}", message.sms, now=now)
    if staff.notify_by_email and staff.email:
        enqueue_staff_message(
            staff, f"{kind}-email:{rest}", message.email, channel="email", now=now
        )


def post(
    kind: NotificationKind,
    messages: Mapping[str, tuple[Staff, Message, str]],
    now: datetime,
) -> int:
    """Write the notifications (key → reader, message, link) whose keys are new, and queue
    their copies by SMS or e-mail where switched on. Returns how many were new. The caller
    commits."""
    new = _insert_ignoring_duplicates(
        [
            {
                "staff_id": staff.id,
                "kind": kind,
                "idempotency_key": key,
                "title": message.title,
                "body": message.body,
                "link": link,
                "created_at": now,
            }
            for key, (staff, message, link) in messages.items()
        ]
    )
    for key in sorted(new):
        staff, message, _link = messages[key]
        _copy_to_phone_and_email(staff, key, message, now)
    return len(new)


# --- reading them --------------------------------------------------------------------------


@functools.cache
def _unread_statement() -> sa.Select:
    return (
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.staff_id == sa.bindparam("staff_id"), Notification.read_at.is_(None))
    )


def unread_count(staff: Staff) -> int:
    """What the navigation shows on every page, so a statement built once."""
    return reads.scalar(_unread_statement(), staff_id=staff.id)


def notifications_for(
    staff: Staff, limit: int = 50, before: int | None = None
) -> list[Notification]:
    """A staff member's notifications, newest first (``before``: older than that id)."""
    query = sa.select(Notification).where(Notification.staff_id == staff.id)
    if before is not None:
        query = query.where(Notification.id < before)
    return list(db.session.scalars(query.order_by(Notification.id.desc()).limit(limit)))


def mark_read(staff: Staff, ids: Collection[int] | None = None, now: datetime | None = None) -> int:
    """Mark the staff member's own notifications read (``ids`` None: all of them); nobody
    else's are touched. Returns how many changed. The caller commits."""
    query = sa.update(Notification).where(
        Notification.staff_id == staff.id, Notification.read_at.is_(None)
    )
    if ids is not None:
        query = query.where(Notification.id.in_(list(ids)))
    result = db.session.execute(
        query.values(read_at=now or utcnow()).execution_options(synchronize_session=False)
    )
    return result.rowcount
