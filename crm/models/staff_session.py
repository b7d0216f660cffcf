"""Signed-in web sessions (登录会话): one row per log-in, so that each can end on its own."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.models.base import Base, UTCDateTime, utcnow
from crm.models.enums import enum_column
from crm.models.staff import Staff


class SessionEnd(StrEnum):
    """Why a session ended: kept for the record (who was signed out, and by what)."""

    LOGOUT = "logout"
    IDLE = "idle"  # no request for longer than CRM_SESSION_IDLE_MINUTES
    EXPIRED = "expired"  # older than CRM_SESSION_MAX_HOURS
    PASSWORD = "password"  # the password was changed from another session
    DEACTIVATED = "deactivated"


class StaffSession(Base):
    __tablename__ = "staff_session"

    # Only a SHA-256 of the session key is kept: the browser's signed cookie holds the key,
    # and whoever reads this table cannot sign in with what they read. The hash is the primary
    # key, so checking a request's session is one primary-key read.
    key_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(sa.ForeignKey("staff.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Moves at most once a minute (crm.services.accounts.sessions), not on every request.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[SessionEnd | None] = mapped_column(
        enum_column(SessionEnd, "session_end_reason")
    )
    user_agent: Mapped[str | None] = mapped_column(sa.String(200))
    address: Mapped[str | None] = mapped_column(sa.String(64))

    # Loaded with the session in the same statement: a request reads one row, joined.
    staff: Mapped[Staff] = relationship(lazy="joined", innerjoin=True)

    def __repr__(self) -> str:
        return f"<StaffSession {self.key_hash[:8]}… staff {self.staff_id}>"
