"""Input hygiene shared by every entry point: the error type, and checks of raw values."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from crm.models.base import CENT


class InvalidInput(ValueError):
    """Input that breaks a rule; ``errors`` maps each field to its message. Nothing was written."""

    def __init__(self, errors: Mapping[str, Any]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


# Control characters never belong in a stored text (PostgreSQL cannot even store NUL): C0 but
# tab and line breaks, DEL, C1, and the bidirectional controls (U+202A–U+202E, U+2066–U+2069,
# the marks U+200E, U+200F, U+061C), which make a name read differently from what is stored
# ("Trojan Source").
_BIDI = {
    "\u061c",
    "\u200e",
    "\u200f",
    *map(chr, range(0x202A, 0x202F)),
    *map(chr, range(0x2066, 0x206A)),
}
_CONTROL = (
    {chr(c) for c in range(32)} - {"\t", "\n", "\r"} | {chr(c) for c in range(0x7F, 0xA0)} | _BIDI
)


# What a spreadsheet may evaluate when a cell starts with it (formula injection), full-width
# forms included: some spreadsheets read them as their ASCII twins. A text field may still
# start with any of them (a name such as "-小明-" or "@张"), in the forms, the API and imports
# alike: the app never evaluates what it stores, and every export neutralises such cells
# (``crm.services.transfer.spreadsheets.neutralise``).
FORMULA_STARTS = ("=", "+", "-", "@", "＝", "＋", "－", "＠")


def refuse_control_characters(values: Mapping[str, Any], errors: dict[str, Any]) -> None:
    """Add an error for every text value that holds control characters: the one rule of
    what a text field may hold, for every entry point."""
    from flask_babel import lazy_gettext as _l

    # Nearly every form is clean: one pass over all its texts at once, fields only if not.
    every = [
        v for value in values.values() for v in (value if isinstance(value, list) else [value])
    ]
    if _CONTROL.isdisjoint("".join(t for t in every if isinstance(t, str))):
        return
    for field, value in values.items():
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(t, str) and not _CONTROL.isdisjoint(t) for t in texts):
            errors.setdefault(field, _l("This contains characters that cannot be stored."))


def refuse_too_long(values: Mapping[str, tuple[str | None, int]], errors: dict[str, Any]) -> None:
    """Add "At most n characters." for every text longer than its limit, given as
    ``{field: (text, limit)}``; an empty text is never too long."""
    from flask_babel import lazy_gettext as _l

    for field, (text, limit) in values.items():
        if text and len(text) > limit:
            errors[field] = _l("At most %(n)d characters.", n=limit)


def has_control_characters(text: str) -> bool:
    return not _CONTROL.isdisjoint(text)


def printable(text: str | None) -> str:
    """``text`` without control characters: for search boxes and log-in names, which never
    need them and must not reach the database with them."""
    return "".join(c for c in (text or "") if c not in _CONTROL)


# Primary keys are 32-bit integers on PostgreSQL; anything larger cannot be an id.
MAX_ID = 2**31 - 1


def as_id(value: Any) -> int | None:
    """A database id from user input, or None if it cannot be one (never an overflow)."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_ID else None


# (texts that name the constraint in SQLite's or PostgreSQL's message, field, message)
Clash = tuple[tuple[str, ...], str, Any]


def flush_or_explain(*clashes: Clash) -> None:
    """Flush the session; a unique constraint broken by a simultaneous save becomes
    ``InvalidInput`` for its field (the checks before cannot see an uncommitted twin)."""
    from flask_babel import lazy_gettext as _l
    from sqlalchemy.exc import IntegrityError

    from crm.extensions import db

    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        text = str(exc.orig)
        for markers, field, message in clashes:
            if any(marker in text for marker in markers):
                raise InvalidInput({field: message}) from None
        raise InvalidInput(
            {"": _l("Someone saved a conflicting change at the same moment; please try again.")}
        ) from None


def is_taken(column, value: Any, excluding: Any = None) -> bool:
    """Whether a row other than ``excluding`` already holds ``value`` in unique ``column``."""
    import sqlalchemy as sa

    from crm.extensions import db

    model = column.class_
    query = sa.select(model.id).where(column == value)
    if excluding is not None:
        query = query.where(model.id != excluding.id)
    return db.session.scalar(query.limit(1)) is not None


# The largest amount any field takes: ¥1 trillion; beyond it a figure is a typing error.
MAX_AMOUNT = Decimal("1000000000000.00")

# An amount as people type it: digits with an optional decimal point, the integer part
# either plain (1000000) or grouped in threes by commas (1,000,000). No exponent, no NaN.
_AMOUNT = re.compile(r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]*)(?:\.[0-9]*)?")
# Full-width digits and signs (１，０００．５０) read as their ASCII twins; only these, not every
# character NFKC would fold (superscripts and circled digits are not amounts).
_FULL_WIDTH = str.maketrans(
    {
        **{chr(0xFF10 + d): str(d) for d in range(10)},
        "，": ",",
        "．": ".",
        "－": "-",
        "＋": "+",
        "￥": "¥",
    }
)


def read_amount(text: str) -> Decimal | None:
    """An amount as typed (``"¥1,000,000.50"``, ``"1000元"``, ``"１，０００"``), or None when it is
    not one: exponents (``1e9``), NaN, infinities and misplaced commas are not amounts.
    Only the form is read here; ``parse_amount`` says whether the value is acceptable."""
    text = text.strip().translate(_FULL_WIDTH).removeprefix("¥").removesuffix("元").strip()
    if not _AMOUNT.fullmatch(text) or not any(c.isdigit() for c in text):
        return None
    return Decimal(text.replace(",", ""))


def parse_amount(
    value: Any,
    field: str,
    errors: dict[str, Any],
    *,
    maximum: Decimal = MAX_AMOUNT,
    positive: bool = False,
    messages: Mapping[str, Any] | None = None,
) -> Decimal | None:
    """An amount in yuan (``Decimal`` with two places) from the form, the API or an imported
    cell, or None with the reason under ``field`` in ``errors``. Text is read by
    ``read_amount``; a ``Decimal`` or whole number handed over by code is taken as it is.
    Negative amounts are never accepted; ``positive`` refuses zero too. ``messages`` words a
    refusal for the field at hand ("invalid", "negative", "zero", "too_large")."""
    from flask_babel import lazy_gettext as _l

    if isinstance(value, str):
        amount = read_amount(value)
    elif isinstance(value, Decimal) and value.is_finite():
        amount = value
    elif isinstance(value, int) and not isinstance(value, bool):
        amount = Decimal(value)
    else:
        amount = None
    words = messages or {}
    if amount is None:
        errors[field] = words.get("invalid") or _l("Enter an amount, such as 250000.00.")
    elif amount < 0:
        errors[field] = words.get("negative") or _l("An amount cannot be negative.")
    elif positive and amount == 0:
        errors[field] = words.get("zero") or _l("The amount must be more than zero.")
    elif amount > min(maximum, MAX_AMOUNT):
        errors[field] = words.get("too_large") or _l(
            "This amount is implausibly large; check the digits."
        )
    elif amount != amount.quantize(CENT):
        errors[field] = _l("Amounts have at most two decimal places.")
    else:
        return amount.quantize(CENT)
    return None


# --- dates a person types ----------------------------------------------------------------

# The calendar the app reasons in: nothing it keeps is dated before 1900 (the earliest birth
# date) or more than a hundred years ahead (the latest maturity). Beyond it a date is a typing
# error, and a dangerous one: a day after 9999-12-31, or 0001-01-01 00:00 in Shanghai as UTC,
# does not exist. Each field may narrow it by meaning (a birth date is not in the future).
EARLIEST_DATE = date(1900, 1, 1)
YEARS_AHEAD = 100


def years_after(day: date, years: int) -> date:
    """The same day ``years`` later (29 February: the 28th)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def latest_date(today: date | None = None) -> date:
    """The latest date anyone may type: a hundred years after the business's today."""
    if today is None:
        from crm.core.clock import local_today

        today = local_today()
    return years_after(today, YEARS_AHEAD)


def date_refusal(
    value: date | datetime,
    *,
    earliest: date | None = None,
    latest: date | None = None,
    today: date | None = None,
) -> Any | None:
    """Why a date (or a local time's date) someone typed is not accepted, or None: the one rule
    of every form, filter, import and API field. ``earliest`` and ``latest`` narrow the
    calendar for the field's meaning; they never widen it."""
    from flask_babel import lazy_gettext as _l

    day = value.date() if isinstance(value, datetime) else value
    first = max(earliest or EARLIEST_DATE, EARLIEST_DATE)
    last = min(latest or latest_date(today), latest_date(today))
    if first <= day <= last:
        return None
    return _l(
        "Enter a date from %(earliest)s to %(latest)s.",
        earliest=first.isoformat(),
        latest=last.isoformat(),
    )


def read_date(text: str | None) -> date | None:
    """A date typed as YYYY-MM-DD (a filter's query parameter), or None when it is not one or
    falls outside the calendar (``date_refusal``)."""
    try:
        day = date.fromisoformat((text or "").strip())
    except ValueError:
        return None
    return None if date_refusal(day) else day
