"""The staff member's day in a real browser: log in and land on the today page, record an
experience from it, then plan a suggested experience from the dossier; and the page at
phone width."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from crm.core.clock import local_today
from crm.extensions import db
from crm.models.enums import MoveCause
from crm.services.advice import effects
from crm.services.customers import tiering
from crm.services.experiences import plans
from tests.support.factories import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def visit_due(world):
    effects.forget()
    customer = world.alice_customer
    customer.willingness = 50  # develop
    customer.created_at = customer.created_at - timedelta(days=10)
    tiering.place(customer, MoveCause.IMPORT, None, first=True)
    db.session.commit()
    visit = plans.add_experience(
        world.alice, customer, {"category": "visit", "due_on": local_today()}
    )
    db.session.commit()
    return visit


def log_in_to_today(page, base, username):
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/today")


def test_land_on_today_record_from_it_and_plan_a_suggestion(world, visit_due, live_server, page):
    base, _ = live_server
    customer = world.alice_customer
    log_in_to_today(page, base, "alice")
    assert "今日工作台" in page.locator("h1").inner_text()

    due = page.get_by_test_id("today-experiences")
    assert "张伟" in due.inner_text() and "定期拜访" in due.inner_text()
    due.get_by_role("link", name="记录").click()
    page.wait_for_url(f"{base}/experiences/{visit_due.id}/record")
    page.get_by_label("客户反馈").select_option(label="一般")
    page.get_by_label("实际费用（元）").fill("80")
    page.get_by_role("button", name="保存记录").click()
    page.wait_for_url(f"{base}/customers/{customer.id}")
    assert "体验已记录" in page.locator("main").inner_text()

    # The visit is held: what the dossier suggests now is something else, within the budget.
    suggested = page.get_by_test_id("suggestions").locator("li").first
    category = suggested.get_attribute("data-category")
    assert category != "visit"
    what = suggested.locator("strong").inner_text()
    assert "预计积极回应率" in suggested.inner_text()
    suggested.get_by_role("button", name="计划此项").click()
    page.wait_for_url(f"{base}/customers/{customer.id}#plan")
    assert "体验已计划。" in page.locator("main").inner_text()
    expect(page.get_by_test_id("planned")).to_contain_text(what)
    expect(
        page.locator(f'[data-testid="suggestions"] li[data-category="{category}"]')
    ).to_have_count(0)

    # Back on the today page: the visit is recorded, the planned suggestion is due today.
    page.goto(f"{base}/today")
    due = page.get_by_test_id("today-experiences")
    expect(due).to_contain_text(what)
    expect(due.locator(f'a[href="/experiences/{visit_due.id}/record"]')).to_have_count(0)


def test_today_fits_a_phone(world, visit_due, live_server, browser):
    base, _ = live_server
    context = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 740})
    phone = context.new_page()
    try:
        log_in_to_today(phone, base, "alice")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 375
        expect(
            phone.get_by_test_id("today-experiences").get_by_role("link", name="记录")
        ).to_be_visible()
        expect(phone.get_by_role("button", name="计划此项").first).to_be_visible()
    finally:
        context.close()
