"""API tokens (接口令牌): an admin issues one to a staff member, who then uses the JSON API
with exactly that member's rights; the admin can revoke it at any time.

Only a SHA-256 of a token is stored. The token itself is shown once, when issued: whoever
reads the database cannot use a token, and a lost token is revoked and issued again.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from crm.core import audit
from crm.core.inputs import InvalidInput, as_id, refuse_control_characters, refuse_too_long
from crm.extensions import db
from crm.models import ApiToken, Staff
from crm.models.base import utcnow

# Tokens start with this, so that a token pasted where it should not be is easy to spot
# (and to search for in leaked text).
TOKEN_MARK = "crm_"
# The prefix shown in lists: the mark and eight characters of the random part.
PREFIX_LENGTH = len(TOKEN_MARK) + 8
NAME_LIMIT = 80
# Longer than any token we issue; anything longer is refused before hashing.
TOKEN_LIMIT = 200
# ``last_used_at`` moves at most this often, so that the API does not write on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_hash(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def issue(admin: Staff | None, staff: Staff, name: str) -> tuple[ApiToken, str]:
    """Issue a token for ``staff`` and return it with its plaintext (shown once, never
    stored). ``admin`` is None from the command line. The caller commits."""
    errors: dict = {}
    if admin is not None and not admin.is_admin:
        errors[""] = _l("Only an administrator may issue API tokens.")
    name = (name or "").strip()
    if not name:
        errors["name"] = _l("Name the token after what will use it, such as 'reporting'.")
    refuse_too_long({"name": (name, NAME_LIMIT)}, errors)
    if not staff.is_active_account:
        errors["staff_id"] = _l("This staff account is deactivated.")
    refuse_control_characters({"name": name}, errors)
    if errors:
        raise InvalidInput(errors)
    plaintext = TOKEN_MARK + secrets.token_urlsafe(32)
    token = ApiToken(
        staff_id=staff.id,
        name=name,
        token_hash=token_hash(plaintext),
        prefix=plaintext[:PREFIX_LENGTH],
        created_by_id=admin.id if admin else None,
    )
    db.session.add(token)
    db.session.flush()
    audit.record(
        admin,
        "api_token",
        token.id,
        "issue",
        {"staff_id": (None, staff.id), "name": (None, name), "prefix": (None, token.prefix)},
    )
    return token, plaintext


def revoke(admin: Staff | None, token: ApiToken) -> None:
    """Revoke a token: the next request with it is refused. The caller commits."""
    if admin is not None and not admin.is_admin:
        raise InvalidInput({"": _l("Only an administrator may revoke API tokens.")})
    if token.revoked_at is not None:
        raise InvalidInput({"": _l("This token was already revoked.")})
    token.revoked_at = utcnow()
    token.revoked_by_id = admin.id if admin else None
    audit.record(admin, "api_token", token.id, "revoke", {"revoked_at": (None, token.revoked_at)})


def authenticate(plaintext: str | None) -> Staff | None:
    """The staff member a presented token acts for, or None (unknown, revoked, or the
    account deactivated). The caller commits: ``last_used_at`` may have moved.

    The token is looked up by its hash, never compared as text: how long the lookup takes
    says nothing about how much of a guess was right.
    """
    if not plaintext or len(plaintext) > TOKEN_LIMIT:
        return None
    token = db.session.scalar(
        sa.select(ApiToken).where(ApiToken.token_hash == token_hash(plaintext))
    )
    if token is None or token.revoked_at is not None or not token.staff.is_active_account:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
    return token.staff


def tokens() -> list[ApiToken]:
    """Every token, newest first (revoked ones too: the list is also their history)."""
    query = sa.select(ApiToken).options(selectinload(ApiToken.staff))
    return list(db.session.scalars(query.order_by(ApiToken.id.desc())))


def get(token_id: int) -> ApiToken | None:
    return db.session.get(ApiToken, token_id) if as_id(token_id) else None


def staff_named(username: str) -> Staff | None:
    """The staff account a token is issued to, by its log-in name."""
    name = (username or "").strip().lower()
    return db.session.scalar(sa.select(Staff).where(Staff.username == name))
