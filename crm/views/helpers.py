"""Filters and globals the templates use."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from flask import Flask, g
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter

from crm import labels
from crm.core.access import can_see_customer
from crm.core.dates import date_text, time_text
from crm.core.phones import mask_phone
from crm.services.customers import asset_tiers


class IdConverter(IntegerConverter):
    """``<id:customer_id>``: a positive id that fits the database (larger ones answer 404)."""

    def __init__(self, url_map):
        from crm.core.inputs import MAX_ID

        super().__init__(url_map, min=1, max=MAX_ID)


def money(amount: Decimal | None) -> str:
    """Yuan with two decimals and thousands separators: ¥1,234.50. Chinese and English write
    them alike (Babel's pattern #,##0.00 in both), and formatting them directly costs a
    tenth of Babel's general number formatting, which a page of amounts calls dozens of times."""
    if amount is None:
        return "—"
    return f"¥{Decimal(amount):,.2f}"


def label(kind: str, value) -> str:
    """The display name of a stored key, e.g. label('risk_level', 'R3')."""
    if value is None or value == "":
        return "—"
    table = getattr(labels, kind.upper(), None) or labels.VALUES.get(kind, {})
    for key, text in table.items():
        if getattr(key, "value", key) == getattr(value, "value", value):
            return str(text)
    return str(value)


def current_locale() -> str:
    """The interface language as the app names it (Babel spells Chinese zh_Hans_CN)."""
    locale = get_locale()
    return "zh_CN" if locale is not None and locale.language == "zh" else "en"


DATE_FIELDS = {"birth_date", "assets_as_of", "start_date", "maturity_date", "due_on", "held_on"}
DATETIME_FIELDS = {"sms_consent_at", "sms_opt_out_at", "opened_at", "due_at", "answered_at"}
MONEY_FIELDS = {"liquid_assets", "premium", "planned_cost", "actual_cost", "total_cost"}
# Opportunities (商机) and the sale's compliance.
DATE_FIELDS |= {"expected_close_on", "closed_on"}
MONEY_FIELDS |= {"expected_premium"}
YES_NO_FIELDS = {
    "returns_notice_shown",
    "risk_acknowledged",
    "sms_consent",
    "is_active_account",
    "notify_by_sms",
    "notify_by_email",
    "non_routine_surrender",
    "satisfied",
}


def history_value(field: str | None, value: str | None, names: dict | None = None) -> str:
    """An audit value as a person reads it: names not ids, local times, yuan, labels."""
    if value is None or value == "":
        return "—"
    if names and (field, value) in names:
        return names[(field, value)]
    try:
        if field in DATE_FIELDS:
            return date_text(date.fromisoformat(value))
        if field in DATETIME_FIELDS:
            return time_text(datetime.fromisoformat(value))
        if field in MONEY_FIELDS:
            return money(Decimal(value))
    except ValueError:
        return value
    if field == "phone":
        return mask_phone(value)
    if field in YES_NO_FIELDS:
        return str(_("yes") if value == "true" else _("no"))
    if field in labels.VALUES:
        return label(field, value)
    return value


# The reasons the app itself writes into the audit log, in its own stable words (the log is
# not translated when written); a person's own reason is shown as they typed it.
_MACHINE_REASONS = (
    (re.compile(r"experience #(\d+)"), lambda m: _("experience record #%(id)s", id=m[1])),
    (re.compile(r"complaint #(\d+)"), lambda m: _("complaint #%(id)s", id=m[1])),
    (
        re.compile(r"referral of customer #(\d+)"),
        lambda m: _("referral of customer #%(id)s", id=m[1]),
    ),
    (re.compile(r"SMS reply: (.*)", re.S), lambda m: _("SMS reply: %(text)s", text=m[1])),
    (
        re.compile(r"handover (\S+) → (\S+)"),
        lambda m: _("handed over from %(giver)s to %(receiver)s", giver=m[1], receiver=m[2]),
    ),
)


def history_reason(reason: str) -> str:
    """An audit row's reason in the reader's language."""
    for pattern, words in _MACHINE_REASONS:
        if match := pattern.fullmatch(reason):
            return words(match)
    return reason


def _tiers() -> list:
    """The asset tiers, read once per request."""
    if "asset_tiers" not in g:
        g.asset_tiers = asset_tiers.current_tiers()
    return g.asset_tiers


def asset_tier(amount) -> str:
    """The asset tier (资产分层) of an amount of liquid assets, as it reads."""
    return asset_tiers.label(asset_tiers.tier_of(amount, _tiers()))


def asset_tier_choices() -> list[tuple[int, str]]:
    return [(t.number, asset_tiers.label(t)) for t in _tiers()]


def register(app: Flask) -> None:
    app.jinja_env.filters.update(
        mask_phone=mask_phone,
        money=money,
        date=date_text,
        datetime=time_text,
    )
    app.jinja_env.globals.update(
        label=label,
        labels=labels,
        current_locale=current_locale,
        can_see_customer=can_see_customer,
        history_value=history_value,
        history_reason=history_reason,
        asset_tier=asset_tier,
        asset_tier_choices=asset_tier_choices,
    )
