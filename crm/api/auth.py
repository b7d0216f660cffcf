"""Who is calling: a bearer token an admin issued (never the browser's session cookie).

The API then acts as the token's staff member, with exactly the rights that member has
in the web interface (``crm.core.access``).
"""

from __future__ import annotations

from flask import g
from flask import request as current_request
from flask_babel import gettext as _
from flask_smorest import abort

from crm.extensions import db
from crm.models import Staff
from crm.services.accounts import api_tokens

CHALLENGE = 'Bearer realm="crm"'


def require_token() -> None:
    """Runs before every API view: 401 unless a valid token came with the request."""
    scheme, _sep, token = current_request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        abort(
            401,
            message=_("Send an API token in the Authorization header: Bearer <token>."),
            headers={"WWW-Authenticate": CHALLENGE},
        )
    staff = api_tokens.authenticate(token)
    if staff is None:
        abort(
            401,
            message=_("This API token is not valid: it is unknown, or it was revoked."),
            headers={"WWW-Authenticate": f'{CHALLENGE}, error="invalid_token"'},
        )
    if db.session.dirty:
        db.session.commit()  # last used: kept even if the request itself is then refused
    g.api_staff = staff


def caller() -> Staff:
    """The staff member the request acts for."""
    return g.api_staff
