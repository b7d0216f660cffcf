"""Pages by role. A page someone's role does not open answers 404, as another staff member's
customer does: the answer never tells what exists beyond one's reach."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from crm.models.enums import Role


def admin_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(404)
        return view(*args, **kwargs)

    return wrapped


def manager_required(view):
    """Managers and admins."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if current_user.role == Role.STAFF:
            abort(404)
        return view(*args, **kwargs)

    return wrapped
