"""Marshmallow fields of the API: messages in the requester's language, money as strings,
times as aware UTC.

marshmallow's own messages are English only; these fields carry the same messages marked
for translation, and render them when the error is made (inside the request, so in the
language that request asked for).
"""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal

import marshmallow as ma
from flask_babel import lazy_gettext as _l
from marshmallow import validate

from crm.core.inputs import MAX_ID, date_refusal, read_amount
from crm.models.base import CENT


class _Translated:
    default_error_messages = {
        "required": _l("This field is required."),
        "null": _l("This field cannot be null."),
        "validator_failed": _l("This value is not accepted."),
    }

    def make_error(self, key: str, **kwargs) -> ma.ValidationError:
        message = str(self.error_messages[key])  # a lazy string, rendered now
        return ma.ValidationError(message.format(**kwargs) if kwargs else message)


class Text(_Translated, ma.fields.String):
    default_error_messages = {
        "invalid": _l("Enter text (a JSON string)."),
        "invalid_utf8": _l("This contains characters that cannot be stored."),
    }

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            # Lone surrogates ("\ud800") parse as JSON but no database can store them.
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise self.make_error("invalid_utf8") from None
        return text


class Integer(_Translated, ma.fields.Integer):
    """A whole number; in a JSON body it must be a JSON integer (``strict``)."""

    default_error_messages = {
        "invalid": _l("Enter a whole number."),
        "too_large": _l("This number is too large."),
    }

    def __init__(self, *, strict: bool = True, **kwargs):
        super().__init__(strict=strict, **kwargs)


class Id(Integer):
    """A database id (ids are 32-bit: anything larger names nothing)."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "validate",
            validate.Range(min=1, max=MAX_ID, error=_l("Not an id: ids are positive numbers.")),
        )
        super().__init__(**kwargs)


class Version(Integer):
    """A record's version, as read (versions count up from 1 in a 32-bit column)."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "validate",
            validate.Range(min=1, max=MAX_ID, error=_l("Not a version: versions count from 1.")),
        )
        super().__init__(**kwargs)


class Boolean(_Translated, ma.fields.Boolean):
    default_error_messages = {"invalid": _l("Enter true or false.")}

    def _deserialize(self, value, attr, data, **kwargs) -> bool:
        # JSON has true and false; "yes", 1 and the like are not guessed at.
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class Date(_Translated, ma.fields.Date):
    default_error_messages = {
        "invalid": _l("Enter a date as YYYY-MM-DD."),
        "format": _l("Enter a date as YYYY-MM-DD."),
    }


class DateTime(_Translated, ma.fields.AwareDateTime):
    """An ISO 8601 time with its offset; written out in UTC, read in any offset (none: UTC)."""

    default_error_messages = {
        "invalid": _l("Enter a time as ISO 8601, such as 2026-01-31T09:30:00+08:00."),
        "invalid_awareness": _l("Enter a time as ISO 8601, such as 2026-01-31T09:30:00+08:00."),
        "format": _l("Enter a time as ISO 8601, such as 2026-01-31T09:30:00+08:00."),
    }

    def __init__(self, **kwargs):
        super().__init__(format="iso", default_timezone=UTC, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return value.astimezone(UTC).isoformat()

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.astimezone(UTC)
        except OverflowError:  # 0001-01-01T00:00+01:00 has no UTC equivalent: out of the calendar
            raise ma.ValidationError(str(date_refusal(moment))) from None


class Money(_Translated, ma.fields.Decimal):
    """An amount in yuan: written as a string with two decimals ("250000.00"); read from a
    string (or a JSON number, read exactly) as the forms and imports read it
    (``inputs.read_amount``: thousands separators yes, exponents no). The domain checks
    range and decimal places."""

    default_error_messages = {
        "invalid": _l("Enter an amount, such as 250000.00."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).setdefault("example", "250000.00")
        super().__init__(as_string=True, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return f"{Decimal(value).quantize(CENT):f}"

    def _deserialize(self, value, attr, data, **kwargs):
        # A JSON number arrives as int or Decimal (never float); written as text it is what
        # the sender wrote, so 1e6 is refused here as "1e6" is in a form.
        if isinstance(value, int | Decimal) and not isinstance(value, bool):
            value = str(value)
        amount = read_amount(value) if isinstance(value, str) else None
        if amount is None:
            raise self.make_error("invalid")
        return amount


def choice(values, **kwargs) -> Text:
    """A text that must be one of ``values`` (an enum's values, or a list)."""
    allowed = [getattr(v, "value", v) for v in values]
    return Text(validate=validate.OneOf(allowed, error=_l("Choose one of: {choices}.")), **kwargs)


class Enum(ma.fields.Enum):
    """An enum written as its stored key (for output; input uses ``choice``)."""

    def __init__(self, enum, **kwargs):
        super().__init__(enum, by_value=ma.fields.String, **kwargs)


class List(_Translated, ma.fields.List):
    default_error_messages = {"invalid": _l("Enter a list.")}


class MaskedPhone(ma.fields.String):
    """A phone number as staff may see it without asking: 138****1234."""

    def _serialize(self, value, attr, obj, **kwargs):
        from crm.core.phones import mask_phone

        return mask_phone(value)


class Schema(ma.Schema):
    """Input: unknown fields are refused (``RAISE``, marshmallow's default), in words the
    requester reads."""

    error_messages = {
        "unknown": _l("Unknown field."),
        "type": _l("Send a JSON object."),
    }
