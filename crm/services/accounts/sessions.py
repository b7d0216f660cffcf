"""Signed-in web sessions (登录会话): opened at log-in, checked on every request, ended by
logging out, by idling, by age, or when the password changes or the account is deactivated.

The browser's signed cookie carries only a random session key; the database keeps its
SHA-256 (``StaffSession``). A copied cookie is therefore worth nothing once its session has
ended, whatever the copy: the row says so. A counter per staff member, raised at log-out,
would end sessions too, but all of them at once: logging out on the branch's PC would also
log out the phone.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from crm.core.inputs import printable
from crm.extensions import db
from crm.models import SessionEnd, Staff, StaffSession
from crm.models.base import utcnow

KEY_BYTES = 32
# Longer than any key we issue; anything longer is refused before hashing.
KEY_LIMIT = 100
# ``last_seen_at`` moves at most this often, so that reading a page does not write: a session
# may therefore end up to a minute before the idle limit, never after it.
SEEN_RESOLUTION = timedelta(minutes=1)
USER_AGENT_LIMIT = 200
ADDRESS_LIMIT = 64


@dataclass(frozen=True)
class Limits:
    """How long a session lives: ``idle`` without a request, ``max_age`` after log-in."""

    idle: timedelta
    max_age: timedelta

    @classmethod
    def from_config(cls) -> Limits:
        cfg = current_app.config
        return cls(
            timedelta(minutes=cfg["CRM_SESSION_IDLE_MINUTES"]),
            timedelta(hours=cfg["CRM_SESSION_MAX_HOURS"]),
        )


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def open_session(staff: Staff, user_agent: str | None, address: str | None) -> str:
    """Open a session for ``staff`` and return its key, for the cookie (only its hash is
    stored). The caller commits."""
    key = secrets.token_urlsafe(KEY_BYTES)
    now = utcnow()
    db.session.add(
        StaffSession(
            key_hash=key_hash(key),
            staff_id=staff.id,
            started_at=now,
            last_seen_at=now,
            user_agent=printable(user_agent or "")[:USER_AGENT_LIMIT] or None,
            address=printable(address or "")[:ADDRESS_LIMIT] or None,
        )
    )
    return key


def lapse(
    record: StaffSession, limits: Limits, now: datetime
) -> tuple[SessionEnd, datetime] | None:
    """Why and since when an open session is over by time, or None while it holds."""
    idle_end = record.last_seen_at + limits.idle
    age_end = record.started_at + limits.max_age
    if now < idle_end and now < age_end:
        return None
    return (SessionEnd.EXPIRED, age_end) if age_end <= idle_end else (SessionEnd.IDLE, idle_end)


def staff_signed_in(key: str | None, limits: Limits) -> Staff | None:
    """The staff member whose open session ``key`` is, or None: unknown, ended, idle past the
    limit, older than the limit, or the account deactivated. One primary-key read.

    A session found over by time is ended, for the record; an open one's ``last_seen_at``
    moves if a minute has passed. Either leaves the database session dirty: the caller
    commits.
    """
    if not key or len(key) > KEY_LIMIT:
        return None
    record = db.session.get(StaffSession, key_hash(key))
    if record is None or record.ended_at is not None:
        return None
    now = utcnow()
    over = lapse(record, limits, now)
    if over is not None:
        record.end_reason, record.ended_at = over
        return None
    if not record.staff.is_active_account:
        return None
    if now - record.last_seen_at >= SEEN_RESOLUTION:
        record.last_seen_at = now
    record.staff.session_key = key
    return record.staff


def end_session(key: str | None, reason: SessionEnd = SessionEnd.LOGOUT) -> None:
    """End the session ``key`` (log-out); nothing if it is unknown or ended. One that was
    already over by time is recorded as such. The caller commits."""
    if not key or len(key) > KEY_LIMIT:
        return
    record = db.session.get(StaffSession, key_hash(key))
    if record is not None and record.ended_at is None:
        now = utcnow()
        over = lapse(record, Limits.from_config(), now)
        record.end_reason, record.ended_at = over if over is not None else (reason, now)


def end_sessions_of(staff: Staff, reason: SessionEnd, keep: str | None = None) -> int:
    """End every open session of ``staff`` except ``keep`` (the key of the session making the
    change, so that changing one's own password does not sign oneself out); return how many.
    The caller commits."""
    query = sa.update(StaffSession).where(
        StaffSession.staff_id == staff.id, StaffSession.ended_at.is_(None)
    )
    if keep:
        query = query.where(StaffSession.key_hash != key_hash(keep))
    result = db.session.execute(
        query.values(ended_at=utcnow(), end_reason=reason).execution_options(
            synchronize_session="fetch"
        )
    )
    return result.rowcount
