"""Signing in, with throttling of repeated failures.

Failures are counted in the database, so the limit holds across every web
worker: N failures for one username, or from one address, within the window
lock further attempts until the oldest of them leaves the window.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from crm.core.inputs import printable
from crm.extensions import db
from crm.models import LoginAttempt, Staff
from crm.models.base import utcnow
from crm.models.staff import password_method


class LoginThrottled(Exception):
    """Too many failures; ``minutes`` until the next attempt is accepted."""

    def __init__(self, minutes: int):
        super().__init__(f"locked for {minutes} min")
        self.minutes = minutes


@dataclass(frozen=True)
class Throttle:
    max_failures: int
    window: timedelta

    @classmethod
    def from_config(cls) -> Throttle:
        cfg = current_app.config
        return cls(
            cfg["CRM_LOGIN_MAX_FAILURES"], timedelta(minutes=cfg["CRM_LOGIN_WINDOW_MINUTES"])
        )


def _locked_until(column, value: str, throttle: Throttle, now: datetime) -> datetime | None:
    since = now - throttle.window
    # Failures since the last success count; a success wipes the slate for that key.
    last_success = db.session.scalar(
        sa.select(sa.func.max(LoginAttempt.at)).where(
            column == value, LoginAttempt.succeeded.is_(True), LoginAttempt.at >= since
        )
    )
    failures = list(
        db.session.scalars(
            sa.select(LoginAttempt.at)
            .where(
                column == value,
                LoginAttempt.succeeded.is_(False),
                LoginAttempt.at >= max(since, last_success)
                if last_success
                else LoginAttempt.at >= since,
            )
            .order_by(LoginAttempt.at.desc())
            .limit(throttle.max_failures)
        )
    )
    if len(failures) < throttle.max_failures:
        return None
    return failures[-1] + throttle.window


@functools.cache
def _dummy_hash_for(method: str) -> str:
    return generate_password_hash("not a password", method)


def _dummy_hash() -> str:
    return _dummy_hash_for(password_method())


def authenticate(
    username: str, password: str, address: str, now: datetime | None = None
) -> Staff | None:
    """Return the active staff member with these credentials, or None; record the attempt.

    Raises ``LoginThrottled`` without checking the password when locked out.
    """
    now = now or utcnow()
    username = printable(username).strip().lower()[:64]
    address = printable(address or "unknown")[:64]
    throttle = Throttle.from_config()
    for column, value in ((LoginAttempt.username, username), (LoginAttempt.address, address)):
        until = _locked_until(column, value, throttle, now)
        if until is not None:
            raise LoginThrottled(max(1, math.ceil((until - now).total_seconds() / 60)))

    staff = db.session.scalar(sa.select(Staff).where(Staff.username == username))
    if staff is None:
        # Spend the same time as a real check, so timing does not tell which usernames exist.
        check_password_hash(_dummy_hash(), password or "")
    ok = staff is not None and staff.is_active_account and staff.check_password(password or "")
    db.session.add(LoginAttempt(username=username, address=address, succeeded=ok, at=now))
    db.session.commit()
    return staff if ok else None
