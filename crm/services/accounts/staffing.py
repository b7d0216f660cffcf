"""Staff accounts and branches: what admins manage."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l

from crm.core import audit
from crm.core.inputs import (
    InvalidInput,
    as_id,
    is_taken,
    refuse_control_characters,
    refuse_too_long,
)
from crm.core.phones import InvalidPhone, normalize_phone
from crm.extensions import db
from crm.models import Branch, SessionEnd, Staff
from crm.models.enums import BranchStage, Role
from crm.services.accounts import sessions

MIN_PASSWORD = 8
LANGUAGES = ("zh_CN", "en")
EMAIL_LIMIT = 120
DISPLAY_NAME_LIMIT = 80
CONTACT_FIELDS = ("phone", "email", "notify_by_sms", "notify_by_email")


def _branch_named(name: str | None) -> Branch | None:
    if not name:
        return None
    return db.session.scalar(sa.select(Branch).where(Branch.name == name))


def clean_staff(data: Mapping[str, Any], staff: Staff | None = None) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    out: dict[str, Any] = {}
    username = (data.get("username") or "").strip().lower()
    if not username or len(username) > 64 or not all(c.isalnum() or c in "._-" for c in username):
        errors["username"] = _l("Use 1 to 64 letters, digits, dots, dashes or underscores.")
    else:
        if is_taken(Staff.username, username, excluding=staff):
            errors["username"] = _l("This username is taken.")
    out["username"] = username

    display = (data.get("display_name") or "").strip() or username
    refuse_too_long({"display_name": (display, DISPLAY_NAME_LIMIT)}, errors)
    out["display_name"] = display

    try:
        out["role"] = Role(data.get("role") or "")
    except ValueError:
        errors["role"] = _l("Choose one of the listed values.")

    branch_id = data.get("branch_id") or None
    if branch_id is not None and db.session.get(Branch, as_id(branch_id) or 0) is None:
        errors["branch_id"] = _l("Unknown branch.")
    elif branch_id is None and out.get("role") in (Role.STAFF, Role.MANAGER):
        errors["branch_id"] = _l("Staff and managers belong to a branch.")
    out["branch_id"] = branch_id

    language = data.get("language") or None
    if language is not None and language not in LANGUAGES:
        errors["language"] = _l("Choose one of the listed values.")
    out["language"] = language

    password = data.get("password") or ""
    if (staff is None or password) and len(password) < MIN_PASSWORD:
        errors["password"] = _l("Passwords have at least %(n)d characters.", n=MIN_PASSWORD)
    out["password"] = password

    out["is_active_account"] = bool(data.get("is_active_account", True))
    out.update(_clean_contact(data, errors))
    refuse_control_characters(out, errors)
    if errors:
        raise InvalidInput(errors)
    return out


def _clean_contact(data: Mapping[str, Any], errors: dict[str, Any]) -> dict[str, Any]:
    """A staff member's own phone and e-mail, and whether reminders also go there."""
    out: dict[str, Any] = {}
    phone = (data.get("phone") or "").strip() or None
    if phone is not None:
        try:
            phone = normalize_phone(phone, current_app.config["CRM_PHONE_REGION"])
        except InvalidPhone as exc:
            errors["phone"] = exc.args[0]
    out["phone"] = phone

    email = (data.get("email") or "").strip() or None
    if email is not None:
        refuse_too_long({"email": (email, EMAIL_LIMIT)}, errors)
        if "email" not in errors:
            try:
                email = validate_email(email, check_deliverability=False).normalized
            except EmailNotValidError:
                errors["email"] = _l("This is not an e-mail address.")
    out["email"] = email

    out["notify_by_sms"] = bool(data.get("notify_by_sms"))
    if out["notify_by_sms"] and phone is None:
        errors["notify_by_sms"] = _l("Enter a mobile phone number for reminders by SMS.")
    out["notify_by_email"] = bool(data.get("notify_by_email"))
    if out["notify_by_email"] and email is None:
        errors["notify_by_email"] = _l("Enter an e-mail address for reminders by e-mail.")
    return out


def clean_contact(data: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    out = _clean_contact(data, errors)
    refuse_control_characters(out, errors)
    if errors:
        raise InvalidInput(errors)
    return out


def create_staff(actor: Staff | None, data: Mapping[str, Any]) -> Staff:
    values = clean_staff(data)
    password = values.pop("password")
    staff = Staff(**values)
    staff.set_password(password)
    db.session.add(staff)
    db.session.flush()
    values["password"] = "(set)"
    audit.record(actor, "staff", staff.id, "create", {k: (None, v) for k, v in values.items()})
    return staff


def update_staff(actor: Staff, staff: Staff, data: Mapping[str, Any]) -> dict:
    values = clean_staff(data, staff)
    if (
        actor is not None
        and actor.id == staff.id
        and (values["role"] != Role.ADMIN or not values["is_active_account"])
    ):
        # Otherwise the last admin could leave nobody able to manage staff.
        raise InvalidInput(
            {"role": _l("You cannot remove your own administrator rights or deactivate yourself.")}
        )
    password = values.pop("password")
    before = {k: getattr(staff, k) for k in values}
    changes = audit.diff(before, values)
    for field, (_, new) in changes.items():
        setattr(staff, field, new)
    if password:
        staff.set_password(password)
        changes["password"] = ("(set)", "(changed)")
    if changes:
        audit.record(actor, "staff", staff.id, "update", changes)
    _end_sessions_after(actor, staff, changes)
    return changes


def choose_language(staff: Staff, language: str | None) -> bool:
    """A staff member's own choice of interface language (None: the browser's), audited as an
    admin's change of it is; False for a language the app does not speak. The caller commits."""
    if language is not None and language not in LANGUAGES:
        return False
    if staff.language != language:
        audit.record(staff, "staff", staff.id, "update", {"language": (staff.language, language)})
        staff.language = language
    return True


def _end_sessions_after(actor: Staff | None, staff: Staff, changes: dict) -> None:
    """A deactivated account is signed out everywhere; a new password signs its owner out
    everywhere but where it was changed (whoever knew the old one is out)."""
    if "is_active_account" in changes and not staff.is_active_account:
        sessions.end_sessions_of(staff, SessionEnd.DEACTIVATED)
    elif "password" in changes:
        keep = actor.session_key if actor is not None else None
        sessions.end_sessions_of(staff, SessionEnd.PASSWORD, keep=keep)


def update_contact(actor: Staff, staff: Staff, data: Mapping[str, Any]) -> dict:
    """A staff member sets where their own reminders go (or an admin does it for them);
    audited like any change to the account. The caller commits."""
    values = clean_contact(data)
    changes = audit.diff({k: getattr(staff, k) for k in CONTACT_FIELDS}, values)
    for field, (_, new) in changes.items():
        setattr(staff, field, new)
    if changes:
        audit.record(actor, "staff", staff.id, "update", changes)
    return changes


def create_staff_by_names(
    actor: Staff | None, username: str, role: str, password: str, branch_name: str | None
) -> Staff:
    """The CLI's way in: a branch by name instead of by id."""
    branch = _branch_named(branch_name)
    if branch_name and branch is None:
        raise InvalidInput({"branch_id": _l("Unknown branch.")})
    return create_staff(
        actor,
        {
            "username": username,
            "role": role,
            "password": password,
            "branch_id": branch.id if branch else None,
        },
    )


def clean_branch(data: Mapping[str, Any], branch: Branch | None = None) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    name = (data.get("name") or "").strip()
    if not name or len(name) > 80:
        errors["name"] = _l("Enter a name of at most %(n)d characters.", n=80)
    else:
        if is_taken(Branch.name, name, excluding=branch):
            errors["name"] = _l("A branch of this name exists.")
    try:
        stage = BranchStage(data.get("stage") or "")
    except ValueError:
        errors["stage"] = _l("Choose one of the listed values.")
        stage = None
    refuse_control_characters({"name": name}, errors)
    if errors:
        raise InvalidInput(errors)
    return {"name": name, "stage": stage}


def save_branch(
    actor: Staff | None, data: Mapping[str, Any], branch: Branch | None = None
) -> Branch:
    values = clean_branch(data, branch)
    if branch is None:
        branch = Branch(**values)
        db.session.add(branch)
        db.session.flush()
        audit.record(
            actor, "branch", branch.id, "create", {k: (None, v) for k, v in values.items()}
        )
        return branch
    changes = audit.diff({k: getattr(branch, k) for k in values}, values)
    for field, (_, new) in changes.items():
        setattr(branch, field, new)
    if changes:
        audit.record(actor, "branch", branch.id, "update", changes)
    return branch
