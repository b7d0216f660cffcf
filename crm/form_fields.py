"""What the forms offer and read beyond WTForms' own: dates and times a person types, within the
app's calendar (``crm.core.inputs.date_refusal``) and refused with a message rather than
carried into a date that cannot exist (a day after 9999-12-31, 0001-01-01 00:00 in Shanghai as
UTC); and the shelf's products and types as a select offers them (适当性: the unsuitable shown
disabled, saying why)."""

from __future__ import annotations

from datetime import UTC

from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice
from wtforms.fields import DateField, DateTimeLocalField
from wtforms.validators import ValidationError

from crm import labels
from crm.core.clock import business_zone
from crm.core.inputs import date_refusal


class _InCalendar:
    """A date or time typed in a form lies within the app's calendar (``inputs.date_refusal``);
    what it may be for its meaning (not in the future, after the start) the domain says."""

    def post_validate(self, form, validation_stopped) -> None:
        if not validation_stopped and self.data is not None:
            refusal = date_refusal(self.data)
            if refusal is not None:
                raise ValidationError(str(refusal))


class DayField(_InCalendar, DateField):
    pass


class LocalTimeField(_InCalendar, DateTimeLocalField):
    """A date and time typed in the business's zone; the form hands on aware UTC (within the
    calendar a local time always has one: 0001-01-01 00:00 in Shanghai would have none)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("format", ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"])
        super().__init__(*args, tz=business_zone, **kwargs)

    def utc(self):
        return self.data.astimezone(UTC) if self.data is not None else None


def _offer(value, text: str, why_not) -> SelectChoice:
    """A choice; one that may not be chosen is shown disabled, saying why, rather than
    refused after the form is sent."""
    if why_not is None:
        return SelectChoice(value, text)
    note = _l("%(text)s (%(note)s)", text=text, note=_l("not suitable: %(why)s", why=why_not))
    return SelectChoice(value, note, render_kw={"disabled": True})


def product_choices(products) -> list[SelectChoice]:
    """Shelf products as a select offers them: name, type and risk rating; products or
    ``(product, why not)`` pairs (``suitability.offered``)."""
    offers = [o if isinstance(o, tuple) else (o, None) for o in products]
    return [SelectChoice("", "—")] + [
        _offer(p.id, f"{p.name} · {_type_name(p.product_type)} · {p.risk_level.value}", why)
        for p, why in offers
    ]


def type_choices(offers) -> list[SelectChoice]:
    """Product types as ``(type, why not)`` pairs (``suitability.offered_types``)."""
    return [_offer(kind.value, _type_name(kind), why) for kind, why in offers]


def _type_name(kind) -> str:
    return str(labels.PRODUCT_TYPE.get(kind, kind.value))
