"""Festivals, working days and birthdays over two calendar years with known lunar dates."""

from __future__ import annotations

from datetime import date

import pytest

from crm.services.occasions import birthdays, calendar
from crm.services.occasions.birthdays import LunarDay, NoSuchLunarDate
from crm.services.occasions.calendar import Festival


@pytest.mark.parametrize(
    ("festival", "in_2026", "in_2027"),
    [
        (Festival.SPRING_FESTIVAL, date(2026, 2, 17), date(2027, 2, 6)),
        (Festival.LANTERN, date(2026, 3, 3), date(2027, 2, 20)),
        (Festival.QINGMING, date(2026, 4, 5), date(2027, 4, 5)),
        (Festival.DRAGON_BOAT, date(2026, 6, 19), date(2027, 6, 9)),
        (Festival.MID_AUTUMN, date(2026, 9, 25), date(2027, 9, 15)),
        (Festival.DOUBLE_NINTH, date(2026, 10, 18), date(2027, 10, 8)),
        (Festival.NATIONAL_DAY, date(2026, 10, 1), date(2027, 10, 1)),
    ],
)
def test_each_festival_falls_on_its_day_in_both_years(festival, in_2026, in_2027):
    assert calendar.festivals(2026)[in_2026] == festival
    assert calendar.festivals(2027)[in_2027] == festival
    assert list(calendar.festivals(2026).values()).count(festival) == 1


def test_festivals_between_two_days_span_the_new_year():
    found = calendar.festivals_between(date(2026, 9, 1), date(2027, 2, 28))
    assert [f for _, f in found] == [
        Festival.MID_AUTUMN,
        Festival.NATIONAL_DAY,
        Festival.DOUBLE_NINTH,
        Festival.SPRING_FESTIVAL,
        Festival.LANTERN,
    ]


def test_a_holiday_moves_to_the_working_day_before_and_a_worked_saturday_counts():
    # National Day 2026: 1–7 October off; 30 September (a Wednesday) is worked.
    assert calendar.is_holiday(date(2026, 10, 1))
    assert calendar.working_day_before(date(2026, 10, 5)) == date(2026, 9, 30)
    # Spring Festival 2026: 15–23 February off; Saturday 14 February is worked (调休).
    assert calendar.is_working_day(date(2026, 2, 14))
    assert calendar.working_day_before(date(2026, 2, 17)) == date(2026, 2, 14)
    # An ordinary weekend is no holiday.
    assert not calendar.is_holiday(date(2026, 11, 28))
    # 2027 beyond the official notice's years: the holiday library's schedule stands in.
    assert calendar.working_day_before(date(2027, 10, 1)) == date(2027, 9, 30)


def test_a_lunar_birthday_is_kept_on_its_lunar_day_each_year():
    born = date(1970, 9, 15)  # 农历 1970-08-15, born on Mid-Autumn
    assert birthdays.lunar_of(born) == (1970, LunarDay(8, 15))
    lunar = LunarDay(8, 15)
    days = birthdays.birthdays_between(born, lunar, date(2026, 1, 1), date(2027, 12, 31))
    assert days == [date(2026, 9, 25), date(2027, 9, 15)]


def test_a_leap_month_birthday_keeps_the_leap_month_and_else_the_ordinary_one():
    # 2025-07-25 is 闰六月初一 (2025 has a leap sixth month); neither 2026 nor 2027 has one.
    born = date(2025, 7, 25)
    year, lunar = birthdays.lunar_of(born)
    assert (year, lunar) == (2025, LunarDay(6, 1, leap=True))
    assert birthdays.to_solar(2025, lunar) == born
    kept = birthdays.birthdays_between(born, lunar, date(2026, 1, 1), date(2027, 12, 31))
    assert kept == [
        birthdays.to_solar(2026, LunarDay(6, 1)),
        birthdays.to_solar(2027, LunarDay(6, 1)),
    ]
    # …and the planner's keys for those days include the leap birthday.
    assert lunar in birthdays.lunar_keys_on(kept[0])
    # In 2025 itself the ordinary sixth month's first day is not the leap birthday's.
    assert lunar not in birthdays.lunar_keys_on(birthdays.to_solar(2025, LunarDay(6, 1)))


def test_a_thirtieth_in_a_short_month_is_kept_on_the_29th():
    long_month = next(m for m in range(1, 13) if _days_in(2026, m) == 30)
    short_month = next(m for m in range(1, 13) if _days_in(2026, m) == 29)
    assert birthdays.lunar_birthday_in(2026, LunarDay(long_month, 30)) == birthdays.to_solar(
        2026, LunarDay(long_month, 30)
    )
    kept = birthdays.lunar_birthday_in(2026, LunarDay(short_month, 30))
    assert kept == birthdays.to_solar(2026, LunarDay(short_month, 29))
    assert LunarDay(short_month, 30) in birthdays.lunar_keys_on(kept)


def test_dates_no_calendar_has_are_refused():
    short_month = next(m for m in range(1, 13) if _days_in(2026, m) == 29)
    with pytest.raises(NoSuchLunarDate):
        birthdays.to_solar(2026, LunarDay(short_month, 30))
    with pytest.raises(NoSuchLunarDate):
        birthdays.to_solar(2026, LunarDay(6, 1, leap=True))  # 2026 has no leap month
    with pytest.raises(NoSuchLunarDate):
        birthdays.parse_lunar("八月十五")
    assert birthdays.parse_lunar("闰4-12") == LunarDay(4, 12, leap=True)
    assert birthdays.parse_lunar("8/15") == LunarDay(8, 15)


def test_29_february_is_greeted_on_28_february_in_common_years():
    born = date(1980, 2, 29)
    days = birthdays.birthdays_between(born, None, date(2027, 1, 1), date(2028, 12, 31))
    assert days == [date(2027, 2, 28), date(2028, 2, 29)]
    assert (2, 29) in birthdays.solar_keys_on(date(2027, 2, 28))
    assert (2, 29) not in birthdays.solar_keys_on(date(2028, 2, 28))


def _days_in(year: int, month: int) -> int:
    try:
        birthdays.to_solar(year, LunarDay(month, 30))
    except NoSuchLunarDate:
        return 29
    return 30
