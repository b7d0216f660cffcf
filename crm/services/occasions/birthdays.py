"""Birthdays, solar or lunar (农历生日), and policy anniversaries: on which day each falls.

A lunar birthday is kept as the lunar month, day and whether that month was a leap month
(闰月). In a year the birthday does not exist it is kept on the nearest day that does, as
families keep it: a 30th in a month of 29 days on the 29th, a leap-month birthday in a year
without that leap month in the ordinary month of that number. A 29 February (solar) is kept on
28 February in common years. The conversion is ``lunardate``'s.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from lunardate import LunarDate

# The years ``lunardate`` converts.
FIRST_YEAR, LAST_YEAR = 1900, 2099


@dataclass(frozen=True)
class LunarDay:
    month: int
    day: int
    leap: bool = False

    def __str__(self) -> str:
        return f"{'闰' if self.leap else ''}{self.month}-{self.day}"


class NoSuchLunarDate(ValueError):
    """A lunar date no calendar has: a 30th of a short month, a leap month the year lacks."""


def lunar_of(day: date) -> tuple[int, LunarDay]:
    """The lunar year and day of a solar date."""
    lunar = LunarDate.from_solar_date(day.year, day.month, day.day)
    return lunar.year, LunarDay(lunar.month, lunar.day, bool(lunar.is_leap_month))


def to_solar(year: int, lunar: LunarDay) -> date:
    """The solar date of a lunar date of lunar year ``year``; ``NoSuchLunarDate`` if it has none."""
    if not (1 <= lunar.month <= 12 and 1 <= lunar.day <= 30):
        raise NoSuchLunarDate(str(lunar))
    try:
        return LunarDate(year, lunar.month, lunar.day, int(lunar.leap)).to_solar_date()
    except ValueError as error:
        raise NoSuchLunarDate(str(lunar)) from error


def exists_in_some_year(lunar: LunarDay) -> bool:
    for year in range(FIRST_YEAR, LAST_YEAR):
        try:
            to_solar(year, lunar)
        except NoSuchLunarDate:
            continue
        return True
    return False


def parse_lunar(text: str) -> LunarDay:
    """A lunar month and day as staff type it: "4-12", "4/12", "闰4-12" (a leap month)."""
    raw = text.strip().replace("／", "/").replace("－", "-").replace("/", "-")
    leap = raw.startswith(("闰", "L", "l"))
    month, _, day = raw.lstrip("闰Ll").partition("-")
    if not (month.strip().isdigit() and day.strip().isdigit()):
        raise NoSuchLunarDate(text)
    return LunarDay(int(month), int(day), leap)


def lunar_keys_on(day: date) -> list[LunarDay]:
    """Every lunar birthday kept on ``day``: its own lunar date, and the dates a year without
    them keeps there (the 30th of a short month, the leap month the year lacks)."""
    year, lunar = lunar_of(day)
    keys = [lunar]
    tomorrow_year, tomorrow = lunar_of(date.fromordinal(day.toordinal() + 1))
    short_month_end = lunar.day == 29 and tomorrow.day == 1
    if short_month_end:
        keys.append(LunarDay(lunar.month, 30, lunar.leap))
    if not lunar.leap and LunarDate.leap_month_for_year(year) != lunar.month:
        keys += [LunarDay(k.month, k.day, True) for k in list(keys)]
    return keys


def solar_birthday_in(year: int, born: date) -> date:
    """The day a solar birthday is kept in ``year`` (29 February on the 28th in common years)."""
    if born.month == 2 and born.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return born.replace(year=year)


def lunar_birthday_in(year: int, lunar: LunarDay) -> date:
    """The solar day a lunar birthday is kept in lunar year ``year``."""
    for candidate in (
        lunar,
        LunarDay(lunar.month, lunar.day),
        LunarDay(lunar.month, 29, lunar.leap),
        LunarDay(lunar.month, 29),
    ):
        try:
            return to_solar(year, candidate)
        except NoSuchLunarDate:
            continue
    raise NoSuchLunarDate(str(lunar))


def birthdays_between(
    born: date | None, lunar: LunarDay | None, first: date, last: date
) -> list[date]:
    """The days from ``first`` to ``last`` a customer's birthday is kept (solar, or lunar if
    ``lunar`` is given)."""
    days = []
    for year in range(first.year - 1, last.year + 1):
        if lunar is not None:
            if not FIRST_YEAR <= year < LAST_YEAR:
                continue
            day = lunar_birthday_in(year, lunar)
        elif born is not None:
            day = solar_birthday_in(year, born)
        else:
            return []
        if first <= day <= last and (born is None or day > born):
            days.append(day)
    return days


def solar_keys_on(day: date) -> list[tuple[int, int]]:
    """The (month, day) of every solar birthday or anniversary kept on ``day``."""
    keys = [(day.month, day.day)]
    if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
        keys.append((2, 29))
    return keys
