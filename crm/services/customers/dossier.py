"""Customer dossiers (客户档案): opening and revising them.

Every write goes through here, so the web forms, the CLI, imports and the API
apply the same checks (``dossier_checks``), write the same audit rows and detect the
same conflicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from crm.core import audit
from crm.core.inputs import InvalidInput, flush_or_explain, is_taken
from crm.core.phones import national_digits
from crm.core.revisions import flush_revision, require_version
from crm.extensions import db
from crm.models import Customer, Staff
from crm.models.base import utcnow
from crm.models.enums import MoveCause
from crm.services.customers import dossier_checks, referrals, tags, tiering
from crm.services.occasions import birthdays
from crm.services.planning import planner

# The fields a person edits; the order is the order of the change history.
DOSSIER_FIELDS = (
    "name",
    "gender",
    "birth_date",
    "birthday_is_lunar",
    "lunar_birth_month",
    "lunar_birth_day",
    "lunar_birth_leap",
    "phone",
    "email",
    "occupation",
    "family_notes",
    "interests_notes",
    "tags",
    "liquid_assets",
    "assets_as_of",
    "willingness",
    "risk_level",
    "channel",
    "referred_by_id",
    "owner_id",
    "branch_id",
    "sms_consent",
    "notes",
)


PHONE_CLASH = (
    ("customer.phone", "uq_customer_phone"),
    "phone",
    _l("Another dossier already has this phone number."),
)


def clean(user: Staff, data: Mapping[str, Any], customer: Customer | None = None) -> dict:
    """Check ``data`` against the dossier rules; return it normalised or raise ``InvalidInput``."""
    out, errors = dossier_checks.check(user, data, customer)
    if "phone" not in errors and is_taken(Customer.phone, out["phone"], excluding=customer):
        errors["phone"] = _l("Another dossier already has this phone number.")
    if errors:
        raise InvalidInput(errors)
    return out


def _snapshot(customer: Customer, tag_names: list[str] | None = None) -> dict[str, Any]:
    """The dossier's values; ``tag_names`` as given, when they are still to be written."""
    values = {field: getattr(customer, field) for field in DOSSIER_FIELDS if field != "tags"}
    # Tags in another order are the same tags.
    same = tag_names is None or set(tag_names) == set(customer.tag_names)
    values["tags"] = customer.tag_names if same else tag_names
    values["sms_consent_at"] = customer.sms_consent_at
    values["sms_opt_out_at"] = customer.sms_opt_out_at
    return values


def _apply(customer: Customer, values: dict[str, Any]) -> None:
    was_consenting = bool(customer.sms_consent)
    for field, value in values.items():
        # Tags are links written once the dossier is saved (``tags.set_tags``).
        if field != "tags" and getattr(customer, field) != value:
            setattr(customer, field, value)
    customer.phone_last4 = national_digits(customer.phone)[-4:]
    # Consent and opt-out are facts with a time (SMS marketing rules need both).
    if values["sms_consent"] and not was_consenting:
        customer.sms_consent_at = utcnow()
        customer.sms_opt_out_at = None
    elif not values["sms_consent"] and was_consenting:
        customer.sms_opt_out_at = utcnow()


def create_customer(user: Staff, data: Mapping[str, Any]) -> Customer:
    """Open a dossier (建档) for ``user``'s scope; the caller commits."""
    values = clean(user, data)
    customer = Customer(version=1, sms_consent=False)
    with db.session.no_autoflush:
        _apply(customer, values)
        tiering.place(customer, MoveCause.DOSSIER_EDIT, user, first=True)
    db.session.add(customer)
    flush_or_explain(PHONE_CLASH)
    changes = {
        k: (None, v)
        for k, v in _snapshot(customer, values["tags"]).items()
        if v not in (None, [], "")
    }
    if values["tags"]:
        tags.set_tags(customer, values["tags"])
    audit.record(
        user,
        "customer",
        customer.id,
        "create",
        changes,
        customer_id=customer.id,
        version=customer.version,
    )
    if customer.referred_by_id is not None:
        referrals.credit_referrer(user, customer.referred_by_id, customer)
    return customer


def update_customer(
    user: Staff, customer: Customer, data: Mapping[str, Any], expected_version: int
) -> dict[str, tuple[Any, Any]]:
    """Revise a dossier (档案修正) as of ``expected_version``; the caller commits.

    Raises ``StaleDossier`` if someone saved it in between, so that no change
    silently overwrites another.
    """
    require_version(customer, expected_version)
    values = clean(user, data, customer)
    before = _snapshot(customer)
    # One flush, at the end: a query's autoflush half-way would bump the version twice
    # and escape the conflict handling below.
    with db.session.no_autoflush:
        _apply(customer, values)
        changes = audit.diff(before, _snapshot(customer, values["tags"]))
        moved = None
        if changes:
            # Every revision re-evaluates the quadrant (the operating loop, seed 004).
            moved = tiering.place(customer, MoveCause.DOSSIER_EDIT, user)
    if not changes:
        return {}
    # Touch the row even when only tags changed, so the version moves with every revision.
    customer.updated_at = utcnow()
    flush_revision(Customer, customer.id, expected_version, PHONE_CLASH)
    if "tags" in changes:
        tags.set_tags(customer, values["tags"])
    audit.record(
        user,
        "customer",
        customer.id,
        "update",
        changes,
        customer_id=customer.id,
        version=customer.version,
    )
    if moved is not None:
        planner.replan_customer(customer)
    if "referred_by_id" in changes and customer.referred_by_id is not None:
        referrals.credit_referrer(user, customer.referred_by_id, customer)
    return changes


def form_values(customer: Customer) -> dict[str, Any]:
    """The dossier as an edit form shows it."""
    values = {field: getattr(customer, field) for field in DOSSIER_FIELDS if field != "tags"}
    values["tags"] = ", ".join(customer.tag_names)
    for field in ("gender", "risk_level", "channel"):
        values[field] = values[field].value if values[field] else ""
    month, day = customer.lunar_birth_month, customer.lunar_birth_day
    lunar = birthdays.LunarDay(month, day, bool(customer.lunar_birth_leap)) if month else None
    values["lunar_birthday"] = str(lunar) if lunar and day else ""
    # The full number is not shown for editing (it is personal data); empty keeps it.
    values["phone"] = ""
    return values


def record_phone_reveal(user: Staff, customer: Customer) -> None:
    """Note that ``user`` saw the full number: phones are personal data."""
    audit.record(
        user, "customer", customer.id, "reveal", {"phone": (None, None)}, customer_id=customer.id
    )
