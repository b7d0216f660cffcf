"""The occasions calendar in a real browser shows the lifestyle experience the planner offers
a pamper customer before their birthday, beside the birthday."""

from datetime import timedelta
from decimal import Decimal

import pytest

from crm.core.clock import local_today
from crm.extensions import db
from crm.models.enums import MoveCause, Quadrant
from crm.services.customers import tiering
from crm.services.occasions import birthdays, calendar
from crm.services.planning import planner
from tests.support.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_the_calendar_shows_the_birthday_experience_beside_the_birthday(world, live_server, page):
    base, _ = live_server
    today = local_today()
    birthday = today + timedelta(days=10)
    while calendar.working_day_before(birthday) <= today + timedelta(days=1):
        birthday += timedelta(days=1)  # a long holiday ahead: a birthday after it
    customer = world.alice_customer
    customer.liquid_assets, customer.willingness = Decimal("6000000.00"), 90
    customer.birth_date = birthdays.solar_birthday_in(1972, birthday)
    tiering.place(customer, MoveCause.IMPORT, None, first=True)
    db.session.commit()
    assert customer.quadrant == Quadrant.PAMPER
    planner.plan_contacts(today + timedelta(days=28))

    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill("alice")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    page.goto(f"{base}/occasions")

    row = page.get_by_test_id("occasion").filter(has_text="张伟")
    assert row.get_attribute("data-kind") == "birthday"
    planned = row.get_by_test_id("planned")
    assert "生活服务（生日关怀）" in planned.get_by_test_id("birthday-experience").inner_text()
    kept = calendar.working_day_before(birthday)
    assert f"{kept.month}月{kept.day}日" in planned.inner_text()
