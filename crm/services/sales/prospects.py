"""Prospects (潜在客户): people met before a dossier is opened (seed 004's Hunt, 开发新客户).

A prospect has a name, a mobile number, the channel it came by (获客渠道), the event or the
customer it came from, an owner and notes. Its status moves new → contacted → qualified, one
step at a time, and ends converted (a dossier opened from it, ``conversion``) or discarded,
always with a reason; a discarded prospect may be reopened. One person is one record: a
number that a prospect or a customer already has is refused, naming that record. Staff see
their own prospects, managers their branch's, admins all (as customers, ``crm.core.access``).
Every change is audited under the entity "prospect"; conversion moves that history onto the
dossier.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from crm import labels
from crm.core import access, audit
from crm.core.inputs import (
    InvalidInput,
    as_id,
    flush_or_explain,
    refuse_control_characters,
    refuse_too_long,
)
from crm.core.phones import InvalidPhone, national_digits, normalize_phone
from crm.core.revisions import stale
from crm.extensions import db
from crm.models import Customer, GroupEvent, Prospect, Staff
from crm.models.base import utcnow
from crm.models.enums import Channel, ProspectStatus
from crm.services.experiences import events

NAME_LIMIT = 60
NOTES_LIMIT = 2000
REASON_LIMIT = 500

# The statuses a prospect is still worked in, and the one step forward from each.
OPEN = (ProspectStatus.NEW, ProspectStatus.CONTACTED, ProspectStatus.QUALIFIED)
NEXT = {
    ProspectStatus.NEW: ProspectStatus.CONTACTED,
    ProspectStatus.CONTACTED: ProspectStatus.QUALIFIED,
}

# The fields a person edits, in the order of the change history; the status is audited as
# "prospect_status", so that the history names it apart from a policy's.
FIELDS = ("name", "phone", "channel", "group_event_id", "referred_by_id", "owner_id", "notes")

PHONE_CLASH = (
    ("prospect.phone", "uq_prospect_phone"),
    "phone",
    _l("Another prospect already has this phone number."),
)


# --- who sees what ------------------------------------------------------------------------


def prospect_scope(user: Staff) -> sa.ColumnElement[bool]:
    """The WHERE clause limiting prospects to those ``user`` may see, as customers are."""
    kind, value = access.scope_of(user)
    if kind == "all":
        return sa.true()
    if kind == "none":
        return sa.false()
    return (Prospect.branch_id if kind == "branch" else Prospect.owner_id) == value


def can_see_prospect(user: Staff, prospect: Prospect) -> bool:
    kind, value = access.scope_of(user)
    if kind == "all":
        return True
    if kind == "branch":
        return prospect.branch_id == value
    return kind == "owner" and prospect.owner_id == value


def prospect_for(user: Staff, prospect_id: int) -> Prospect | None:
    """A prospect ``user`` may see, or None whether it exists or not (the caller answers 404)."""
    prospect = db.session.get(Prospect, prospect_id)
    return prospect if prospect is not None and can_see_prospect(user, prospect) else None


def prospects_query(user: Staff, status: ProspectStatus | None = None) -> sa.Select:
    """The prospects ``user`` may see (of one status), for a list that pages by id."""
    query = sa.select(Prospect).where(prospect_scope(user))
    if status is not None:
        query = query.where(Prospect.status == status)
    return query


def list_prospects(
    user: Staff, status: ProspectStatus | None = None, before: int | None = None, limit: int = 50
) -> tuple[list[Prospect], int | None]:
    """A page of the prospects ``user`` may see, newest first, older than id ``before``;
    and the id to pass as ``before`` for the next page (None on the last)."""
    query = prospects_query(user, status).options(
        selectinload(Prospect.owner), selectinload(Prospect.group_event)
    )
    if before is not None:
        query = query.where(Prospect.id < before)
    rows = list(db.session.scalars(query.order_by(Prospect.id.desc()).limit(limit + 1)))
    return rows[:limit], rows[limit - 1].id if len(rows) > limit else None


# --- one person, one record ---------------------------------------------------------------


@dataclass(frozen=True)
class Existing:
    """The record that already has a phone number: a prospect or a customer's dossier."""

    kind: str  # "prospect" or "customer"
    id: int


class DuplicatePhone(InvalidInput):
    """The number belongs to ``existing`` already; the pages link to it."""

    def __init__(self, errors: Mapping[str, Any], existing: Existing):
        super().__init__(errors)
        self.existing = existing


def holder_of(phone: str, excluding: Prospect | None = None) -> Existing | None:
    """The prospect or the customer that already has ``phone`` (E.164), if any."""
    query = sa.select(Prospect.id).where(Prospect.phone == phone)
    if excluding is not None:
        query = query.where(Prospect.id != excluding.id)
    prospect_id = db.session.scalar(query.limit(1))
    if prospect_id is not None:
        return Existing("prospect", prospect_id)
    customer_id = db.session.scalar(sa.select(Customer.id).where(Customer.phone == phone))
    if customer_id is not None and (excluding is None or customer_id != excluding.customer_id):
        return Existing("customer", customer_id)
    return None


def duplicate_message(existing: Existing):
    if existing.kind == "prospect":
        return _l("Prospect #%(id)d already has this phone number.", id=existing.id)
    return _l("Customer dossier #%(id)d already has this phone number.", id=existing.id)


# --- the rules ----------------------------------------------------------------------------


def clean(user: Staff, data: Mapping[str, Any], prospect: Prospect | None = None) -> dict:
    """Check ``data`` against the prospect's rules; return it normalised or raise
    ``InvalidInput`` (``DuplicatePhone`` when the number is someone else's)."""
    errors: dict[str, Any] = {}
    out: dict[str, Any] = {"name": (data.get("name") or "").strip()}
    if not out["name"]:
        errors["name"] = _l("Enter the prospect's name.")
    out["notes"] = (data.get("notes") or "").strip() or None
    refuse_too_long(
        {"name": (out["name"], NAME_LIMIT), "notes": (out["notes"], NOTES_LIMIT)}, errors
    )
    existing = _check_phone(data, prospect, out, errors)
    try:
        out["channel"] = Channel(data.get("channel") or "")
    except ValueError:
        errors["channel"] = _l("Choose the channel the prospect came by.")
    _check_origin(user, data, prospect, out, errors)
    _check_owner(user, data, prospect, out, errors)
    refuse_control_characters(out, errors)
    if existing is not None and "phone" in errors:
        raise DuplicatePhone(errors, existing)
    if errors:
        raise InvalidInput(errors)
    return out


def _check_phone(
    data: Mapping[str, Any], prospect: Prospect | None, out: dict, errors: dict
) -> Existing | None:
    raw = (data.get("phone") or "").strip()
    if prospect is not None and not raw:
        out["phone"] = prospect.phone  # the edit form shows it masked; empty keeps it
        return None
    try:
        out["phone"] = normalize_phone(raw, current_app.config["CRM_PHONE_REGION"])
    except InvalidPhone as exc:
        errors["phone"] = exc.args[0]
        return None
    existing = holder_of(out["phone"], excluding=prospect)
    if existing is not None:
        errors["phone"] = duplicate_message(existing)
    return existing


def _check_origin(
    user: Staff, data: Mapping[str, Any], prospect: Prospect | None, out: dict, errors: dict
) -> None:
    """The event or the customer the prospect came from: one the user may see (kept as it
    was when unchanged, whoever may see it now)."""
    event_id = as_id(data.get("group_event_id")) if data.get("group_event_id") else None
    if data.get("group_event_id") and event_id is None:
        errors["group_event_id"] = _l("No such event, or not one you may see.")
    elif event_id is not None and (prospect is None or event_id != prospect.group_event_id):
        event = db.session.get(GroupEvent, event_id)
        if event is None or not events.can_see_event(user, event):
            errors["group_event_id"] = _l("No such event, or not one you may see.")
    out["group_event_id"] = event_id

    referrer_id = as_id(data.get("referred_by_id")) if data.get("referred_by_id") else None
    if data.get("referred_by_id") and referrer_id is None:
        errors["referred_by_id"] = _l("No such customer, or not one you may see.")
    elif referrer_id is not None and (prospect is None or referrer_id != prospect.referred_by_id):
        referrer = db.session.get(Customer, referrer_id)
        if referrer is None or not access.can_see_customer(user, referrer):
            errors["referred_by_id"] = _l("No such customer, or not one you may see.")
    out["referred_by_id"] = referrer_id


def _check_owner(
    user: Staff, data: Mapping[str, Any], prospect: Prospect | None, out: dict, errors: dict
) -> None:
    """The owner, by default the user (or whoever holds it); the branch is the owner's, or
    the event's for an owner without one (an administrator at a walk-in)."""
    raw = data.get("owner_id")
    if raw in (None, ""):
        owner_id = user.id if prospect is None else prospect.owner_id
    else:
        owner_id = as_id(raw)
    owners = {s.id: s for s in access.assignable_owners(user)}
    owner = owners.get(owner_id)
    if owner is None and prospect is not None and owner_id == prospect.owner_id:
        owner = prospect.owner
    out["owner_id"] = owner_id
    if owner is None:
        errors["owner_id"] = _l("Unknown owner, or not one you may assign.")
        return
    branch_id = owner.branch_id
    if branch_id is None and out.get("group_event_id") and "group_event_id" not in errors:
        branch_id = db.session.get(GroupEvent, out["group_event_id"]).branch_id
    if branch_id is None:
        errors["owner_id"] = _l("Choose an owner who works at a branch.")
    out["branch_id"] = branch_id


def _snapshot(prospect: Prospect) -> dict[str, Any]:
    return {field: getattr(prospect, field) for field in FIELDS}


def record_change(
    user: Staff | None, prospect: Prospect, action: str, changes, reason: str | None = None
) -> None:
    audit.record(
        user,
        "prospect",
        prospect.id,
        action,
        changes,
        customer_id=prospect.customer_id,
        version=prospect.version,
        reason=reason,
    )


# --- writing ------------------------------------------------------------------------------


def create_prospect(user: Staff, data: Mapping[str, Any]) -> Prospect:
    """Add a prospect (status new) for ``user``'s scope; the caller commits."""
    values = clean(user, data)
    prospect = Prospect(status=ProspectStatus.NEW, version=1, **values)
    prospect.phone_last4 = national_digits(prospect.phone)[-4:]
    db.session.add(prospect)
    flush_or_explain(PHONE_CLASH)
    changes = {k: (None, v) for k, v in _snapshot(prospect).items() if v not in (None, "")}
    changes["prospect_status"] = (None, prospect.status)
    record_change(user, prospect, "create", changes)
    return prospect


def require_open(prospect: Prospect) -> None:
    if prospect.status == ProspectStatus.CONVERTED:
        raise InvalidInput(
            {"": _l("This prospect became a customer; its dossier is where to work now.")}
        )


def update_prospect(
    user: Staff, prospect: Prospect, data: Mapping[str, Any], expected_version: int
) -> dict[str, tuple[Any, Any]]:
    """Revise a prospect as of ``expected_version``; the caller commits. Raises
    ``StaleDossier`` (with what the other writer changed) if someone saved in between."""
    require_version(prospect, expected_version)
    require_open(prospect)
    values = clean(user, data, prospect)
    before = _snapshot(prospect)
    with db.session.no_autoflush:
        for field, value in values.items():
            if getattr(prospect, field) != value:
                setattr(prospect, field, value)
        prospect.phone_last4 = national_digits(prospect.phone)[-4:]
        changes = audit.diff(before, _snapshot(prospect))
    if changes:
        flush_change(prospect, expected_version)
        record_change(user, prospect, "update", changes)
    return changes


def move_prospect(
    user: Staff,
    prospect: Prospect,
    to: ProspectStatus | str,
    expected_version: int,
    reason: str | None = None,
) -> None:
    """Move a prospect one step on (new → contacted → qualified), discard it with a reason,
    or reopen a discarded one (back to new); the caller commits. Conversion opens a dossier
    and is ``conversion.convert_prospect``."""
    require_version(prospect, expected_version)
    require_open(prospect)
    try:
        target = ProspectStatus(to)
    except ValueError:
        raise InvalidInput({"status": _l("Choose one of the listed values.")}) from None
    reason = (reason or "").strip() or None
    errors: dict[str, Any] = {}
    current = prospect.status
    if target == ProspectStatus.DISCARDED:
        if current not in OPEN:
            errors["status"] = _l("This prospect is discarded already.")
        elif reason is None:
            errors["discard_reason"] = _l("Say why the prospect is discarded.")
        refuse_too_long({"discard_reason": (reason, REASON_LIMIT)}, errors)
        refuse_control_characters({"discard_reason": reason}, errors)
    elif target == ProspectStatus.CONVERTED:
        errors["status"] = _l("Convert the prospect by opening its dossier.")
    elif not (
        NEXT.get(current) == target
        or (current == ProspectStatus.DISCARDED and target == ProspectStatus.NEW)
    ):
        errors["status"] = _l(
            "A prospect that is %(now)s cannot become %(then)s: it moves one step at a time.",
            now=labels.PROSPECT_STATUS[current],
            then=labels.PROSPECT_STATUS[target],
        )
    if errors:
        raise InvalidInput(errors)
    changes: dict[str, tuple[Any, Any]] = {"prospect_status": (current, target)}
    prospect.status = target
    if target == ProspectStatus.DISCARDED:
        changes["discard_reason"] = (prospect.discard_reason, reason)
        prospect.discard_reason = reason
    elif prospect.discard_reason is not None:
        changes["discard_reason"] = (prospect.discard_reason, None)
        prospect.discard_reason = None
    flush_change(prospect, expected_version)
    record_change(user, prospect, "update", changes, reason=reason)


def next_status(prospect: Prospect) -> ProspectStatus | None:
    """The one step forward a page offers, if any."""
    return NEXT.get(prospect.status)


def require_version(prospect: Prospect, expected_version: int) -> None:
    if prospect.version != expected_version:
        raise stale(prospect, "prospect", prospect.id, expected_version)


def flush_change(prospect: Prospect, expected_version: int) -> None:
    """Flush a revision; a simultaneous save becomes ``StaleDossier`` with what it changed."""
    prospect.updated_at = utcnow()
    prospect_id = prospect.id
    try:
        flush_or_explain(PHONE_CLASH)
    except StaleDataError:
        db.session.rollback()
        fresh = db.session.get(Prospect, prospect_id)
        raise stale(fresh, "prospect", prospect_id, expected_version) from None


def form_values(prospect: Prospect) -> dict[str, Any]:
    """The prospect as an edit form shows it (the phone is not shown in full)."""
    values = _snapshot(prospect)
    values["channel"] = prospect.channel.value
    values["phone"] = ""
    return values
