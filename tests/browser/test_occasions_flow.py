"""The occasions calendar in a real browser: a birthday ahead with its greeting planned, a
lunar birthday set on the dossier and then found on the calendar."""

from datetime import timedelta

import pytest

from crm.core.clock import local_today
from crm.extensions import db
from crm.models.base import utcnow
from crm.models.enums import MoveCause
from crm.services.customers import tiering
from crm.services.occasions import birthdays
from crm.services.planning import planner
from tests.support.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_the_calendar_shows_birthdays_ahead_with_the_greeting_planned(world, live_server, page):
    base, _ = live_server
    today = local_today()
    solar_day = today + timedelta(days=4)
    customer = world.alice_customer
    customer.sms_consent, customer.sms_consent_at = True, utcnow()
    customer.birth_date = birthdays.solar_birthday_in(1980, solar_day)
    tiering.place(customer, MoveCause.IMPORT, None, first=True)
    # Bob's customer keeps a lunar birthday in twelve days: born that lunar day in 1975.
    lunar_day = today + timedelta(days=12)
    _, lunar = birthdays.lunar_of(lunar_day)
    lunar = birthdays.LunarDay(lunar.month, min(lunar.day, 29))
    other = world.bob_customer
    other.owner, other.branch = world.alice, world.alice.branch
    db.session.commit()
    planner.plan_contacts(today + timedelta(days=28))

    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill("alice")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()

    # The lunar birthday is set on the dossier, as staff would.
    page.goto(f"{base}/customers/{other.id}/edit")
    page.get_by_label("按农历过生日").check()
    page.get_by_label("农历生日", exact=True).fill(f"{lunar.month}-{lunar.day}")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(f"{base}/customers/{other.id}")
    assert f"农历生日：{lunar.month}-{lunar.day}" in page.locator("main").inner_text()

    page.get_by_role("navigation").get_by_role("link", name="节日与生日").click()
    page.wait_for_url(f"{base}/occasions")
    rows = page.get_by_test_id("occasion")
    birthday = rows.filter(has_text="张伟")
    assert "生日" in birthday.inner_text()
    assert "问候短信（生日）" in birthday.get_by_test_id("planned").inner_text()
    assert birthday.get_attribute("data-kind") == "birthday"
    lunar_row = rows.filter(has_text="李娜")
    assert lunar_row.get_attribute("data-kind") == "lunar_birthday"
    # Not consenting to SMS: no greeting is planned, only what else falls around the day.
    assert "问候短信" not in lunar_row.get_by_test_id("planned").inner_text()
    kept = birthdays.lunar_birthday_in(birthdays.lunar_of(lunar_day)[0], lunar)
    assert f"{kept.month}月{kept.day}日" in lunar_row.inner_text()
