"""Staff account aggregate: relationship staff, managers and admins."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from crm.models.base import Base, UTCDateTime, utcnow
from crm.models.branch import Branch
from crm.models.enums import Role, enum_column


def password_method() -> str:
    """The hashing method in force (configurable, so tests need not pay for scrypt)."""
    return current_app.config.get("CRM_PASSWORD_METHOD", "scrypt") if current_app else "scrypt"


class Staff(UserMixin, Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(80))
    role: Mapped[Role] = mapped_column(enum_column(Role, "staff_role"), default=Role.STAFF)
    branch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("branch.id"), index=True)
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    # None: follow the browser's language.
    language: Mapped[str | None] = mapped_column(sa.String(8))
    timezone: Mapped[str] = mapped_column(sa.String(40), default="Asia/Shanghai")
    is_active_account: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    # Where reminders may also go, besides the notifications page (each needs a switch on).
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    email: Mapped[str | None] = mapped_column(sa.String(120))
    notify_by_sms: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    notify_by_email: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    branch: Mapped[Branch | None] = relationship(lazy="joined")

    # Not a column: the key of the signed-in session (StaffSession) this instance came through
    # in a web request, None elsewhere. Flask-Login keeps it in the cookie instead of the staff
    # id (``get_session_key``), so that one session can end without the others.
    session_key = None

    def get_session_key(self) -> str:
        if not self.session_key:
            raise RuntimeError("no session opened: sign in through crm.views.sessions.sign_in")
        return self.session_key

    def set_password(self, password: str, method: str | None = None) -> None:
        self.password_hash = generate_password_hash(password, method or password_method())

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.is_active_account

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER

    def __repr__(self) -> str:
        return f"<Staff {self.username} {self.role}>"
