"""Input hygiene shared by every entry point: the error type, and checks of raw values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


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


def refuse_control_characters(values: Mapping[str, Any], errors: dict[str, Any]) -> None:
    """Add an error for every text value that holds control characters."""
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


def parse_amount(
    value: Any,
    field: str,
    errors: dict[str, Any],
    *,
    maximum: Any = None,
    positive: bool = False,
) -> Any:
    """An amount in yuan from user input (``Decimal`` with two places), or None with the
    reason under ``field`` in ``errors``. Negative amounts are never accepted."""
    from decimal import Decimal, InvalidOperation

    from flask_babel import lazy_gettext as _l

    if isinstance(value, str):
        value = value.strip().replace(",", "").replace("，", "").lstrip("¥￥")
    try:
        if value is None or value == "":
            raise InvalidOperation
        amount = Decimal(value)
        if not amount.is_finite():
            raise InvalidOperation
    except (InvalidOperation, TypeError, ValueError):
        errors[field] = _l("Enter an amount in yuan, such as 250000.00.")
        return None
    if amount < 0:
        errors[field] = _l("An amount cannot be negative.")
    elif positive and amount == 0:
        errors[field] = _l("The amount must be more than zero.")
    elif maximum is not None and amount > maximum:
        errors[field] = _l("This amount is implausibly large; check the digits.")
    elif amount != amount.quantize(Decimal("0.01")):
        errors[field] = _l("Amounts have at most two decimal places.")
    else:
        return amount.quantize(Decimal("0.01"))
    return None
