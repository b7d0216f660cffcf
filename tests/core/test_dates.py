"""The app's calendar (``inputs.date_refusal``) and how a date and a time read
(``crm.core.dates``): one rule and one format, for every page, form, filter and API field."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from flask_babel import force_locale

from crm.core.dates import date_text, time_text
from crm.core.inputs import EARLIEST_DATE, date_refusal, latest_date, read_date

pytestmark = pytest.mark.backends("sqlite")

TODAY = date(2026, 12, 5)


@pytest.mark.parametrize(
    "day",
    [date(1, 1, 1), date(1899, 12, 31), date(2126, 12, 6), date(9999, 12, 31)],
)
def test_a_date_outside_the_calendar_is_refused_with_its_bounds(app, day):
    with force_locale("zh_CN"):
        assert str(date_refusal(day, today=TODAY)) == "请输入 1900-01-01 至 2126-12-05 之间的日期。"
    with force_locale("en"):
        assert str(date_refusal(day, today=TODAY)) == (
            "Enter a date from 1900-01-01 to 2126-12-05."
        )


def test_the_calendar_holds_a_century_either_way_and_a_time_as_its_date(app):
    for day in (EARLIEST_DATE, TODAY, date(2126, 12, 5)):
        assert date_refusal(day, today=TODAY) is None
    assert date_refusal(datetime(1, 1, 1, tzinfo=UTC), today=TODAY) is not None
    assert latest_date(date(2000, 2, 29)) == date(2100, 2, 28)  # 2100 is no leap year


def test_a_field_narrows_the_calendar_never_widens_it(app):
    with force_locale("en"):
        refusal = date_refusal(TODAY + timedelta(days=1), latest=TODAY, today=TODAY)
        assert str(refusal) == "Enter a date from 1900-01-01 to 2026-12-05."
        assert date_refusal(date(1800, 1, 1), earliest=date(1700, 1, 1), today=TODAY)


def test_a_filters_date_is_read_or_ignored(app):
    assert read_date("2026-03-01") == date(2026, 3, 1)
    assert read_date(" 2026-03-01 ") == date(2026, 3, 1)
    assert read_date("0001-01-01") is None and read_date("9999-12-31") is None
    assert read_date("31/01/2026") is None and read_date(None) is None


def test_one_format_per_language(app):
    moment = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai
    with force_locale("zh_CN"):
        assert date_text(date(2026, 12, 3)) == "2026年12月3日"
        assert time_text(moment) == "2026年3月2日 09:30"
    with force_locale("en"):
        assert date_text(date(2026, 12, 3)) == "Dec 3, 2026"
        assert time_text(moment) == "Mar 2, 2026, 9:30\u202fAM" or time_text(moment) == (
            "Mar 2, 2026, 9:30 AM"
        )
    assert date_text(None) == "—" and time_text(None) == "—"
