"""Filters and globals the templates use."""

from __future__ import annotations

from decimal import Decimal

from flask import Flask
from flask_babel import format_date, format_datetime, format_decimal, get_locale

from crm import labels
from crm.services.phones import mask_phone


def money(amount: Decimal | None) -> str:
    if amount is None:
        return "—"
    return "¥" + format_decimal(amount, format="#,##0.00")


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


def register(app: Flask) -> None:
    app.jinja_env.filters.update(
        mask_phone=mask_phone,
        money=money,
        date=lambda d: format_date(d, "medium") if d else "—",
        datetime=lambda d: format_datetime(d, "medium") if d else "—",
    )
    app.jinja_env.globals.update(label=label, labels=labels, current_locale=current_locale)
