"""The calendar customers keep: festivals and the official working days (法定节假日、调休).

Festival dates come from two maintained libraries, never from tables of our own: the public
holidays of ``holidays`` (Spring Festival, Qingming, Dragon Boat, Mid-Autumn, National Day,
with their 调休 days off) and the lunar calendar of ``lunardate`` for the festivals that are
not days off (Lantern, Double Ninth). Working days are those of ``chinese_calendar``, which
follows the State Council's yearly notice, for the years it covers; for a year it does not yet
cover, ``holidays``' own schedule stands in.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from functools import cache

import chinese_calendar
import holidays
from lunardate import LunarDate


class Festival(StrEnum):
    """The festivals greeted (节日), in the order of the year."""

    SPRING_FESTIVAL = "spring_festival"  # 春节, lunar 1/1
    LANTERN = "lantern"  # 元宵节, lunar 1/15
    QINGMING = "qingming"  # 清明节, a solar term
    DRAGON_BOAT = "dragon_boat"  # 端午节, lunar 5/5
    MID_AUTUMN = "mid_autumn"  # 中秋节, lunar 8/15
    DOUBLE_NINTH = "double_ninth"  # 重阳节, lunar 9/9: a festival of the elderly
    NATIONAL_DAY = "national_day"  # 国庆节, 1 October


# The public holidays by the names ``holidays`` gives them (its English catalogue).
_PUBLIC = {
    "Chinese New Year (Spring Festival)": Festival.SPRING_FESTIVAL,
    "Tomb-Sweeping Day": Festival.QINGMING,
    "Dragon Boat Festival": Festival.DRAGON_BOAT,
    "Mid-Autumn Festival": Festival.MID_AUTUMN,
    "National Day": Festival.NATIONAL_DAY,
}
# The festivals that are no day off, by their lunar month and day.
_LUNAR = {Festival.LANTERN: (1, 15), Festival.DOUBLE_NINTH: (9, 9)}


@cache
def _public_holidays(year: int) -> holidays.HolidayBase:
    return holidays.China(years=year, language="en_US")


@cache
def festivals(year: int) -> dict[date, Festival]:
    """Each festival's day in ``year`` (the first day of a holiday that lasts several)."""
    days: dict[date, Festival] = {}
    for day, name in sorted(_public_holidays(year).items()):
        festival = _PUBLIC.get(name)
        if festival is not None and festival not in days.values():
            days[day] = festival
    for festival, (month, day) in _LUNAR.items():
        days[LunarDate(year, month, day).to_solar_date()] = festival
    return dict(sorted(days.items()))


def festivals_between(first: date, last: date) -> list[tuple[date, Festival]]:
    """The festivals from ``first`` to ``last``, both included, in date order."""
    return [
        (day, festival)
        for year in range(first.year, last.year + 1)
        for day, festival in festivals(year).items()
        if first <= day <= last
    ]


def is_holiday(day: date) -> bool:
    """Whether ``day`` is a public holiday or one of its days off (not a mere weekend)."""
    if day in _public_holidays(day.year):
        return True
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return False
    return on_holiday and name is not None


def is_working_day(day: date) -> bool:
    """A working day by the official calendar: weekdays but holidays, and the weekends
    worked in exchange (调休上班)."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return _public_holidays(day.year).is_working_day(day)


def working_day_before(day: date) -> date:
    """The last working day before ``day``."""
    day -= timedelta(days=1)
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day
