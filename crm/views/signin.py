"""Which staff member a request comes from: the signed-in session named in the cookie.

Flask-Login keeps the session's random key in the signed cookie, never the staff id
(``Staff.get_session_key``), and every request checks that session in the database
(``crm.services.accounts.sessions``). The JSON API does not come through here: it has its
bearer tokens.
"""

from __future__ import annotations

from flask import flash, g, redirect, request, session
from flask_babel import gettext as _
from flask_login import LoginManager, login_url, login_user, logout_user

from crm.core.dbsetup import WROTE
from crm.extensions import db
from crm.i18n import LOGIN_REQUIRED
from crm.models import SessionEnd, Staff
from crm.services.accounts import sessions

# What Flask-Login keeps in the cookie: the session key, whether fresh, and its own
# fingerprint of the browser.
LOGIN_KEYS = ("_user_id", "_fresh", "_id")


def install(manager: LoginManager) -> None:
    manager.id_attribute = "get_session_key"
    manager.user_loader(load_staff)
    manager.unauthorized_handler(ask_to_log_in)


def sign_in(staff: Staff) -> None:
    """Open a session for ``staff`` (committed) and put its key in the cookie."""
    staff.session_key = sessions.open_session(staff, request.user_agent.string, request.remote_addr)
    db.session.commit()
    login_user(staff)


def sign_out() -> None:
    """End this browser's session in the database, so that no copy of the cookie works."""
    sessions.end_session(session.get("_user_id"), SessionEnd.LOGOUT)
    db.session.commit()
    logout_user()


def load_staff(key: str) -> Staff | None:
    """Flask-Login's user loader: the staff member of the open session ``key``, or None."""
    quiet = not _request_has_writes()
    staff = sessions.staff_signed_in(key, sessions.Limits.from_config())
    if quiet and db.session.dirty:
        # The session was seen a minute after it last was, or it is over: commit that alone,
        # now, so that pages that only read stay read-only. (Flask-Login loads the user before
        # a view does anything; should a write of the request's own be pending, the session's
        # row goes with it, committed or undone alike.)
        db.session.commit()
    if staff is None:
        g.session_ended = True
        for name in LOGIN_KEYS:
            session.pop(name, None)
    return staff


def _request_has_writes() -> bool:
    current = db.session()
    if current.new or current.dirty or current.deleted:
        return True
    return current.in_transaction() and bool(current.connection().info.get(WROTE))


def ask_to_log_in():
    """A page needs a signed-in user: to the log-in page, back here afterwards."""
    if g.get("session_ended"):
        flash(_("Your session has expired. Please log in again."), "warning")
    else:
        flash(str(LOGIN_REQUIRED), "warning")
    return redirect(login_url("auth.login", next_url=request.url))
