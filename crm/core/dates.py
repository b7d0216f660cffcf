"""How a date and a time read: one format per language, on every page, list, message and
digest (Chinese 2026年12月5日 14:30, English Dec 5, 2026, 2:30 PM)."""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo

from flask_babel import format_date, format_time, get_locale, get_timezone


def date_text(day: date | None) -> str:
    if day is None:
        return "—"
    return format_date(day, "medium")


def time_text(moment: datetime | None, zone: tzinfo | None = None) -> str:
    """An instant on the reader's clock (or ``zone``'s: due times are the branch's): the date
    as ``date_text`` writes it, then hours and minutes (seconds say nothing to a reader)."""
    if moment is None:
        return "—"
    if moment.tzinfo is None:  # stored times are UTC
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(zone or get_timezone())
    clock = format_time(local, "short", rebase=False)
    pattern = get_locale().datetime_formats["medium"]  # how the language joins the two
    return pattern.format(clock, date_text(local.date()))
