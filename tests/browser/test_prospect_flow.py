"""Hunt, in a real browser: a walk-in guest at an event becomes a prospect, is moved along with
one click per step, and is converted into a dossier that says where it came from."""

from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import GroupEvent
from crm.models.enums import Touchpoint
from tests.support.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.backends("sqlite")]


def test_a_walk_in_guest_becomes_a_customer(world, live_server, page):
    base, _ = live_server
    event = GroupEvent(
        category=Touchpoint.EVENT,
        title="理财讲座",
        held_on=local_today() - timedelta(days=1),
        place="城东支行",
        capacity=30,
        total_cost=Decimal("3000.00"),
        branch=world.east,
        organiser_id=world.manager.id,
    )
    db.session.add(event)
    db.session.commit()
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill("alice")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/today")

    page.goto(f"{base}/events/{event.id}")
    page.get_by_label("姓名和手机号").fill("王敏 13912345678")
    page.get_by_role("button", name="登记为潜在客户").click()
    expect(page.locator(".flash.success")).to_contain_text("1 位现场来宾")

    page.get_by_role("link", name="潜在客户", exact=True).first.click()
    page.get_by_role("link", name="王敏").click()
    assert "139****5678" in page.locator("main").inner_text()
    page.get_by_role("button", name="标记为“已联系”").click()
    page.get_by_role("button", name="标记为“已确认意向”").click()
    page.get_by_role("link", name="建立客户档案").click()
    page.get_by_label("流动资产（元）").fill("1,200,000")
    page.get_by_label("风险等级").select_option("R3")
    page.get_by_role("button", name="建立档案").click()

    page.wait_for_url(f"{base}/customers/*")
    main = page.locator("main").inner_text()
    assert "已根据潜在客户建立客户档案" in main and "王敏" in main
    expect(page.get_by_test_id("from-prospect")).to_be_visible()
    history = page.locator("table.history").inner_text()
    assert "已联系" in history and "已确认意向" in history and "已建档" in history
