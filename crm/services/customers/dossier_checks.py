"""The dossier's rules (客户档案校验): what a dossier may hold, field by field.

The web forms, the API and the importer all check a dossier with ``check``, so a value
refused in one is refused in all with the same message. Each group of fields is checked in
a step of its own, always in the same order, which is the order of the values and of the
errors returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l

from crm.core import access
from crm.core.clock import local_today
from crm.core.inputs import (
    MAX_AMOUNT,
    as_id,
    date_refusal,
    parse_amount,
    refuse_control_characters,
    refuse_too_long,
)
from crm.core.phones import InvalidPhone, normalize_phone
from crm.extensions import db
from crm.models import Branch, Customer, Staff
from crm.models.enums import Channel, Gender, RiskLevel
from crm.services.customers import referrals, willingness
from crm.services.occasions import birthdays

MAX_ASSETS = MAX_AMOUNT  # ¥1 trillion: beyond this it is a typing error
MAX_TAGS = 20
TEXT_LIMITS = {"name": 60, "email": 120, "occupation": 80, "tag": 40}
NOTES_LIMIT = 2000
NOTES_FIELDS = ("family_notes", "interests_notes", "notes")

# The fields chosen from a list, and whether the dossier must have one.
CHOICES = (("gender", Gender, True), ("risk_level", RiskLevel, True), ("channel", Channel, False))


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


def check(
    user: Staff,
    data: Mapping[str, Any],
    customer: Customer | None = None,
    *,
    batch: Batch | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The dossier rules but the phone's uniqueness: (normalised values, errors by field).

    ``dossier.clean`` adds the uniqueness check per dossier; an import checks all its
    phones in one query instead, and passes one ``batch`` for the whole file.
    """
    errors: dict[str, Any] = {}
    out: dict[str, Any] = {}
    batch = batch or Batch.for_user(user)
    _check_name(data, out, errors)
    _check_contact(data, customer, batch.phone_region, out, errors)
    _check_profile(data, batch.today, out, errors)
    _check_lunar_birthday(data, customer, out, errors)
    _check_assets(data, batch.today, out, errors)
    _check_willingness(data, out, errors)
    _check_choices(data, out, errors)
    _check_referrer(user, data, customer, out, errors)
    owner = _check_owner(user, data, customer, batch, out, errors)
    _check_branch(data, customer, batch, owner, out, errors)
    out["sms_consent"] = bool(data.get("sms_consent"))
    if not batch.texts_checked:
        refuse_control_characters(out, errors)
    return out, errors


def _check_name(data: Mapping[str, Any], out: dict, errors: dict) -> None:
    """The customer's name: required, and of a length a person has."""
    name = (data.get("name") or "").strip()
    if not name:
        errors["name"] = _l("Enter the customer's name.")
    refuse_too_long({"name": (name, TEXT_LIMITS["name"])}, errors)
    out["name"] = name


def _check_contact(
    data: Mapping[str, Any], customer: Customer | None, region: str, out: dict, errors: dict
) -> None:
    """The phone, in the international form the dossier stores, and the e-mail address."""
    raw_phone = (data.get("phone") or "").strip()
    try:
        if customer is not None and not raw_phone:
            # The edit form shows the number masked; left empty, it stays as it is.
            out["phone"] = customer.phone
        else:
            out["phone"] = normalize_phone(raw_phone, region)
    except InvalidPhone as exc:
        errors["phone"] = exc.args[0]

    email = (data.get("email") or "").strip() or None
    if email:
        try:
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError:
            errors["email"] = _l("This is not an e-mail address.")
        refuse_too_long({"email": (email, TEXT_LIMITS["email"])}, errors)
    out["email"] = email


def _check_profile(data: Mapping[str, Any], today: date, out: dict, errors: dict) -> None:
    """What the staff know of the person: occupation, notes, tags and birth date."""
    out["occupation"] = (data.get("occupation") or "").strip() or None
    for field in NOTES_FIELDS:
        out[field] = (data.get(field) or "").strip() or None
    refuse_too_long(
        {
            "occupation": (out["occupation"], TEXT_LIMITS["occupation"]),
            **{field: (out[field], NOTES_LIMIT) for field in NOTES_FIELDS},
        },
        errors,
    )

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


def _check_lunar_birthday(
    data: Mapping[str, Any], customer: Customer | None, out: dict, errors: dict
) -> None:
    """A birthday kept by the lunar calendar (农历生日): its lunar month and day ("4-12", a
    leap month "闰4-12"), read from the birth date when left empty. A date that does not
    exist in the year of birth (a 30th of a short month, a leap month that year lacks) is
    refused, and so is one that is not the birth date's. Left out (the API, imports), the
    dossier keeps what it had."""
    keep = customer is not None and "birthday_is_lunar" not in data
    is_lunar = bool(customer.birthday_is_lunar if keep else data.get("birthday_is_lunar"))
    out["birthday_is_lunar"] = is_lunar
    out["lunar_birth_month"] = out["lunar_birth_day"] = out["lunar_birth_leap"] = None
    if keep:
        for field in ("lunar_birth_month", "lunar_birth_day", "lunar_birth_leap"):
            out[field] = getattr(customer, field)
        return
    if not is_lunar or "birth_date" in errors:
        return
    born = out.get("birth_date")
    text = (data.get("lunar_birthday") or "").strip()
    if not text and born is None:
        errors["lunar_birthday"] = _l("Enter the lunar birthday (month-day) or the birth date.")
        return
    try:
        lunar = birthdays.parse_lunar(text) if text else birthdays.lunar_of(born)[1]
        if born is not None:
            year = birthdays.lunar_of(born)[0]
            if birthdays.to_solar(year, lunar) != born:
                errors["lunar_birthday"] = _l("This lunar birthday is not the birth date's.")
                return
        elif not birthdays.exists_in_some_year(lunar):
            raise birthdays.NoSuchLunarDate(text)
    except birthdays.NoSuchLunarDate:
        errors["lunar_birthday"] = _l(
            "This lunar date does not exist in the year of birth (a 30th of a month of 29 "
            "days, or a leap month the year does not have)."
        )
        return
    out["lunar_birth_month"], out["lunar_birth_day"] = lunar.month, lunar.day
    out["lunar_birth_leap"] = lunar.leap


def _check_assets(data: Mapping[str, Any], today: date, out: dict, errors: dict) -> None:
    """Liquid assets in yuan to the fen, and the day they were known."""
    raw = data.get("liquid_assets")
    assets = parse_amount(
        0 if raw is None else raw,
        "liquid_assets",
        errors,
        maximum=MAX_ASSETS,
        messages={"negative": _l("Liquid assets cannot be negative.")},
    )
    out["liquid_assets"] = Decimal(0) if assets is None else assets

    as_of = data.get("assets_as_of")
    if as_of is not None and as_of > today:
        errors["assets_as_of"] = _l("The as-of date cannot be in the future.")
    elif as_of is not None and (refusal := date_refusal(as_of, latest=today)) is not None:
        errors["assets_as_of"] = refusal
    out["assets_as_of"] = as_of


def _check_willingness(data: Mapping[str, Any], out: dict, errors: dict) -> None:
    """Willingness (意愿度): a whole score from 0 to 100."""
    out["willingness"] = willingness.read_score(data.get("willingness"), errors)


def _check_choices(data: Mapping[str, Any], out: dict, errors: dict) -> None:
    """Gender, risk level and channel: one of the listed values (the channel may be left out)."""
    for field, enum, required in CHOICES:
        value = data.get(field) or None
        if value is None and not required:
            out[field] = None
            continue
        try:
            out[field] = enum(value)
        except ValueError:
            errors[field] = _l("Choose one of the listed values.")


def _check_referrer(
    user: Staff, data: Mapping[str, Any], customer: Customer | None, out: dict, errors: dict
) -> None:
    """The customer who referred this one: one the user may see, and no circle."""
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


def _check_owner(
    user: Staff,
    data: Mapping[str, Any],
    customer: Customer | None,
    batch: Batch,
    out: dict,
    errors: dict,
) -> Staff | None:
    """The owner: by default the user for a new dossier, else whoever holds it; returned,
    or None when the user may not give the dossier to them."""
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
    return owner


def _check_branch(
    data: Mapping[str, Any],
    customer: Customer | None,
    batch: Batch,
    owner: Staff | None,
    out: dict,
    errors: dict,
) -> None:
    """The branch: by default the owner's, and never another branch than the owner's."""
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
