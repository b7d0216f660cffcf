"""Mobile phone numbers: validation, storage form, and masking."""

from __future__ import annotations

import phonenumbers
from flask_babel import lazy_gettext as _l


class InvalidPhone(ValueError):
    """The text is not a valid mobile number; ``str()`` gives the reason for the user."""


def normalize_phone(raw: str, region: str = "CN") -> str:
    """Return the number in E.164 (+8613812341234) or raise ``InvalidPhone``."""
    text = (raw or "").strip()
    if not text:
        raise InvalidPhone(_l("Enter a mobile phone number."))
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(_l("This is not a phone number.")) from exc
    # The type is UNKNOWN exactly when no pattern of the number's region matches, which is
    # what is_valid_number tests; asking once halves the cost of a large import.
    kind = phonenumbers.number_type(number)
    if kind == phonenumbers.PhoneNumberType.UNKNOWN:
        raise InvalidPhone(_l("This phone number does not exist; check the digits."))
    if kind not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise InvalidPhone(_l("Enter a mobile number: SMS cannot reach a landline."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def national_digits(e164: str) -> str:
    """The number as dialled at home: 13812341234 for +8613812341234."""
    # Almost every stored number is a mainland mobile (+86 and 11 digits, no trunk prefix);
    # read those directly: a page of fifty masked phones would otherwise parse fifty times.
    if len(e164) == 14 and e164.startswith("+861") and e164[1:].isdigit():
        return e164[3:]
    try:
        return str(phonenumbers.parse(e164).national_number)
    except phonenumbers.NumberParseException:
        return e164


def mask_phone(e164: str | None) -> str:
    """Show a number as 138****1234: enough to recognise, not enough to dial."""
    if not e164:
        return ""
    digits = national_digits(e164)
    if len(digits) < 8:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"
