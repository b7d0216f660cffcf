"""Customer dossiers (客户档案): creating, revising and their rules.

Every write goes through here, so the web forms, the CLI, imports and the API
apply the same checks, write the same audit rows and detect the same conflicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l

from crm.core import access, audit
from crm.core.clock import local_today
from crm.core.inputs import (
    InvalidInput,
    as_id,
    flush_or_explain,
    is_taken,
    refuse_control_characters,
)
from crm.core.phones import InvalidPhone, national_digits, normalize_phone
from crm.core.revisions import flush_revision, require_version
from crm.extensions import db
from crm.models import Branch, Customer, Staff, Tag
from crm.models.base import utcnow
from crm.models.enums import Channel, Gender, MoveCause, RiskLevel
from crm.services.customers import referrals, tiering
from crm.services.planning import planner

MAX_ASSETS = Decimal("1000000000000.00")  # ¥1 trillion: beyond this it is a typing error
MAX_TAGS = 20
TEXT_LIMITS = {"name": 60, "email": 120, "occupation": 80, "tag": 40}
NOTES_LIMIT = 2000
NOTES_FIELDS = ("family_notes", "interests_notes", "notes")

# The fields a person edits; the order is the order of the change history.
DOSSIER_FIELDS = (
    "name",
    "gender",
    "birth_date",
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


def parse_tags(text: str | list[str] | None) -> list[str]:
    """Tags from "高净值, 退休 ，子女教育" (commas of either width), deduplicated, in order."""
    if text is None:
        return []
    parts = text if isinstance(text, list) else text.replace("，", ",").split(",")
    seen: list[str] = []
    for part in parts:
        name = part.strip()
        if name and name not in seen:
            seen.append(name)
    return seen


@dataclass(frozen=True)
class Batch:
    """What the checks read besides the dossier, read once: the owners and branches the user
    may give it, today, the phone region. An import checks thousands of rows with one."""

    owners: Mapping[int, Staff]
    branches: Mapping[int, Branch]
    today: date
    phone_region: str
    # The caller has already found no control characters anywhere in its input (an import
    # scans the whole file at once), so the per-dossier scan is skipped.
    texts_checked: bool = False

    @classmethod
    def for_user(cls, user: Staff) -> Batch:
        return cls.of(access.assignable_owners(user), access.visible_branches(user))

    @classmethod
    def of(cls, owners, branches) -> Batch:
        return cls(
            {s.id: s for s in owners},
            {b.id: b for b in branches},
            local_today(),
            current_app.config["CRM_PHONE_REGION"],
        )


def clean(user: Staff, data: Mapping[str, Any], customer: Customer | None = None) -> dict:
    """Check ``data`` against the dossier rules; return it normalised or raise ``InvalidInput``."""
    out, errors = check(user, data, customer)
    if "phone" not in errors and is_taken(Customer.phone, out["phone"], excluding=customer):
        errors["phone"] = _l("Another dossier already has this phone number.")
    if errors:
        raise InvalidInput(errors)
    return out


def check(
    user: Staff,
    data: Mapping[str, Any],
    customer: Customer | None = None,
    *,
    batch: Batch | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The dossier rules but the phone's uniqueness: (normalised values, errors by field).

    ``clean`` adds the uniqueness check per dossier; an import checks all its phones in
    one query instead, and passes one ``batch`` for the whole file.
    """
    errors: dict[str, Any] = {}
    out: dict[str, Any] = {}
    batch = batch or Batch.for_user(user)
    today = batch.today

    name = (data.get("name") or "").strip()
    if not name:
        errors["name"] = _l("Enter the customer's name.")
    elif len(name) > TEXT_LIMITS["name"]:
        errors["name"] = _l("At most %(n)d characters.", n=TEXT_LIMITS["name"])
    out["name"] = name

    raw_phone = (data.get("phone") or "").strip()
    try:
        if customer is not None and not raw_phone:
            # The edit form shows the number masked; left empty, it stays as it is.
            out["phone"] = customer.phone
        else:
            out["phone"] = normalize_phone(raw_phone, batch.phone_region)
    except InvalidPhone as exc:
        errors["phone"] = exc.args[0]

    email = (data.get("email") or "").strip() or None
    if email:
        try:
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError:
            errors["email"] = _l("This is not an e-mail address.")
        if len(email) > TEXT_LIMITS["email"]:
            errors["email"] = _l("At most %(n)d characters.", n=TEXT_LIMITS["email"])
    out["email"] = email

    occupation = (data.get("occupation") or "").strip() or None
    if occupation and len(occupation) > TEXT_LIMITS["occupation"]:
        errors["occupation"] = _l("At most %(n)d characters.", n=TEXT_LIMITS["occupation"])
    out["occupation"] = occupation

    for field in NOTES_FIELDS:
        text = (data.get(field) or "").strip() or None
        if text and len(text) > NOTES_LIMIT:
            errors[field] = _l("At most %(n)d characters.", n=NOTES_LIMIT)
        out[field] = text

    tags = parse_tags(data.get("tags"))
    if len(tags) > MAX_TAGS:
        errors["tags"] = _l("At most %(n)d tags.", n=MAX_TAGS)
    elif any(len(t) > TEXT_LIMITS["tag"] for t in tags):
        errors["tags"] = _l("A tag has at most %(n)d characters.", n=TEXT_LIMITS["tag"])
    out["tags"] = tags

    birth_date = data.get("birth_date")
    if birth_date is not None and (birth_date > today or birth_date.year < 1900):
        errors["birth_date"] = _l("The birth date cannot be in the future or before 1900.")
    out["birth_date"] = birth_date

    try:
        assets = Decimal(data.get("liquid_assets") if data.get("liquid_assets") is not None else 0)
        if not assets.is_finite():
            raise InvalidOperation
    except (InvalidOperation, TypeError, ValueError):
        errors["liquid_assets"] = _l("Enter an amount in yuan, such as 250000.00.")
        assets = Decimal(0)
    if assets < 0:
        errors["liquid_assets"] = _l("Liquid assets cannot be negative.")
    elif assets > MAX_ASSETS:
        errors["liquid_assets"] = _l("This amount is implausibly large; check the digits.")
    elif assets != assets.quantize(Decimal("0.01")):
        errors["liquid_assets"] = _l("Amounts have at most two decimal places.")
    out["liquid_assets"] = (
        assets.quantize(Decimal("0.01")) if "liquid_assets" not in errors else assets
    )

    as_of = data.get("assets_as_of")
    if as_of is not None and as_of > today:
        errors["assets_as_of"] = _l("The as-of date cannot be in the future.")
    out["assets_as_of"] = as_of

    willingness = data.get("willingness")
    if (
        not isinstance(willingness, int)
        or isinstance(willingness, bool)
        or not 0 <= willingness <= 100
    ):
        errors["willingness"] = _l("Willingness is a score from 0 to 100.")
    out["willingness"] = willingness

    for field, enum, required in (
        ("gender", Gender, True),
        ("risk_level", RiskLevel, True),
        ("channel", Channel, False),
    ):
        value = data.get(field) or None
        if value is None and not required:
            out[field] = None
            continue
        try:
            out[field] = enum(value)
        except ValueError:
            errors[field] = _l("Choose one of the listed values.")

    referred_by_id = data.get("referred_by_id") or None
    unchanged = customer is not None and as_id(referred_by_id) == customer.referred_by_id
    # Referral chains cross owners; only a newly named referrer must be one the user can see.
    if referred_by_id is not None and not unchanged:
        referrer = db.session.get(Customer, as_id(referred_by_id) or 0)
        if referrer is None or not access.can_see_customer(user, referrer):
            errors["referred_by_id"] = _l("No such customer, or not one you may see.")
        elif customer is not None and referrer.id == customer.id:
            errors["referred_by_id"] = _l("A customer cannot refer themselves.")
        elif customer is not None and referrals.would_cycle(customer.id, referrer.id):
            errors["referred_by_id"] = _l(
                "This customer is already up this customer's referral chain; a referral "
                "cannot go round in a circle."
            )
    out["referred_by_id"] = referred_by_id

    raw_owner = data.get("owner_id")
    if raw_owner in (None, ""):
        owner_id = user.id if customer is None else customer.owner_id
    else:
        owner_id = as_id(raw_owner)
    owner = batch.owners.get(owner_id)
    if owner is None and customer is not None and customer.owner_id == owner_id:
        owner = customer.owner  # keeping the owner is always fine
    if owner is None:
        errors["owner_id"] = _l("Unknown owner, or not one you may assign.")
    out["owner_id"] = owner_id

    raw_branch = data.get("branch_id")
    branch_id = (
        (owner.branch_id if owner else None) if raw_branch in (None, "") else as_id(raw_branch)
    )
    # The assignable branches were just read; only a dossier's own branch is looked up.
    known_branch = branch_id in batch.branches or (
        customer is not None
        and branch_id == customer.branch_id
        and db.session.get(Branch, branch_id) is not None
    )
    if branch_id is None or not known_branch:
        errors["branch_id"] = _l("Unknown branch, or not one you may assign.")
    elif owner is not None and owner.branch_id is not None and owner.branch_id != branch_id:
        errors["owner_id"] = _l("The owner works at another branch.")
    out["branch_id"] = branch_id

    out["sms_consent"] = bool(data.get("sms_consent"))

    if not batch.texts_checked:
        refuse_control_characters(out, errors)
    return out, errors


def _snapshot(customer: Customer) -> dict[str, Any]:
    values = {field: getattr(customer, field) for field in DOSSIER_FIELDS if field != "tags"}
    values["tags"] = customer.tag_names
    values["sms_consent_at"] = customer.sms_consent_at
    values["sms_opt_out_at"] = customer.sms_opt_out_at
    return values


def _tags_named(names: list[str]) -> list[Tag]:
    if not names:
        return []
    existing = {t.name: t for t in db.session.scalars(sa.select(Tag).where(Tag.name.in_(names)))}
    tags = []
    for name in names:
        tag = existing.get(name)
        if tag is None:
            tag = Tag(name=name)
            db.session.add(tag)
        tags.append(tag)
    return tags


def _apply(customer: Customer, values: dict[str, Any]) -> None:
    was_consenting = bool(customer.sms_consent)
    for field, value in values.items():
        if field == "tags":
            if value != customer.tag_names:
                customer.tags = _tags_named(value)
        elif getattr(customer, field) != value:
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
    changes = {k: (None, v) for k, v in _snapshot(customer).items() if v not in (None, [], "")}
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
        changes = audit.diff(before, _snapshot(customer))
        moved = None
        if changes:
            # Every revision re-evaluates the quadrant (the operating loop, seed 004).
            moved = tiering.place(customer, MoveCause.DOSSIER_EDIT, user)
    if not changes:
        return {}
    # Touch the row even when only tags changed, so the version moves with every revision.
    customer.updated_at = utcnow()
    flush_revision(Customer, customer.id, expected_version, PHONE_CLASH)
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
    # The full number is not shown for editing (it is personal data); empty keeps it.
    values["phone"] = ""
    return values


def record_phone_reveal(user: Staff, customer: Customer) -> None:
    """Note that ``user`` saw the full number: phones are personal data."""
    audit.record(
        user, "customer", customer.id, "reveal", {"phone": (None, None)}, customer_id=customer.id
    )
