"""The period a manager's page or sheet covers: two typed dates, checked, or a default with
what was wrong (a reversed range or a date past the calendar never reaches a query)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

from crm.core.inputs import EARLIEST_DATE, latest_date, read_date

# A dashboard reads one bucket per month; past three years a chart stops being readable.
MAX_MONTHS = 36


@dataclass(frozen=True)
class Month:
    """One calendar month of a period, cut to the period: figures "as of" it are as of
    ``last``, movements are those from ``first`` to ``last``."""

    first: date
    last: date

    @property
    def key(self) -> str:
        return f"{self.first.year:04d}-{self.first.month:02d}"


@dataclass
class Period:
    start: date
    end: date
    errors: list[str] = field(default_factory=list)

    @property
    def months(self) -> list[Month]:
        return months_between(self.start, self.end)


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def months_back(day: date, count: int) -> date:
    """The first day of the month ``count`` months before ``day``'s."""
    index = day.year * 12 + day.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


def months_between(start: date, end: date) -> list[Month]:
    """The calendar months from ``start`` to ``end``, the first and last cut to them."""
    result = []
    first = start
    while first <= end:
        following = next_month(first)
        result.append(Month(first, min(end, following - timedelta(days=1))))
        first = following
    return result


def last_twelve_months(today: date) -> tuple[date, date]:
    """This month and the eleven before it, up to today: the dashboard's default."""
    return months_back(today, 11), today


def this_month(today: date) -> tuple[date, date]:
    return month_start(today), next_month(today) - timedelta(days=1)


def read_period(
    first_text: str | None,
    last_text: str | None,
    default: tuple[date, date],
    *,
    max_months: int | None = MAX_MONTHS,
) -> Period:
    """The period typed as two YYYY-MM-DD dates (either may be left out: the default's), or
    the default with a message for each thing wrong."""
    start, end = default
    asked = {
        name: read_date(text) if text else None
        for name, text in (("from", first_text), ("to", last_text))
    }
    typed = {"from": first_text, "to": last_text}
    if any(typed[name] and day is None for name, day in asked.items()):
        message = _l(
            "Enter dates as YYYY-MM-DD from %(earliest)s to %(latest)s; "
            "the default period is shown instead.",
            earliest=EARLIEST_DATE.isoformat(),
            latest=latest_date().isoformat(),
        )
        return Period(start, end, [str(message)])
    start, end = asked["from"] or start, asked["to"] or end
    if end < start:
        message = _l("The period ends before it starts; the default period is shown instead.")
        return Period(*default, [str(message)])
    if max_months is not None and len(months_between(start, end)) > max_months:
        message = _l(
            "Choose a period of at most %(n)d months; the default period is shown instead.",
            n=max_months,
        )
        return Period(*default, [str(message)])
    return Period(start, end)


def day_begins(day: date, zone: ZoneInfo) -> datetime:
    """The instant ``day`` begins in the business's zone."""
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def after_day(day: date, zone: ZoneInfo) -> datetime:
    """The first instant after ``day`` in the business's zone (the end of an "as of")."""
    return day_begins(day + timedelta(days=1), zone)
