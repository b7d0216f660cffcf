"""A relationship manager's day, in a real browser: log in, find a customer, revise the dossier."""

import pytest
from playwright.sync_api import expect

from tests.support.factories import PASSWORD

pytestmark = pytest.mark.browser


def log_in(page, base, username):
    # Staff land on /today; these tests start from the customer list, so they ask for it.
    page.goto(f"{base}/login?next=/customers")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/customers")


def test_log_in_search_edit_and_see_the_change_in_history(world, live_server, page):
    base, _ = live_server
    log_in(page, base, "alice")
    page.get_by_role("searchbox", name="查询", exact=True).fill("1111")
    page.get_by_role("button", name="查询").click()
    page.wait_for_url(f"{base}/customers?*q=1111*")
    expect(page.locator("table.list tbody tr")).to_have_count(1)
    assert "138****1111" in page.locator("table.list").inner_text()

    page.get_by_role("link", name="张伟").click()
    page.get_by_role("link", name="编辑档案").click()
    page.get_by_label("意愿（0–100）").fill("72")
    page.get_by_label("职业").fill("中学教师")
    page.get_by_role("button", name="保存").click()

    page.wait_for_url(f"{base}/customers/{world.alice_customer.id}")
    assert "档案已保存" in page.locator("main").inner_text()
    history = page.locator("table.history").inner_text()
    assert "中学教师" in history and "72" in history and "Alice" in history


def test_bad_phone_is_explained_in_chinese_in_the_browser(world, live_server, page):
    base, _ = live_server
    log_in(page, base, "alice")
    page.goto(f"{base}/customers/new")
    page.get_by_label("姓名").fill("钱多多")
    page.get_by_label("手机号码").fill("12345")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".has-error .error").first).to_be_visible()
    assert "号码" in page.locator(".has-error .error").first.inner_text()


def test_phone_width_list_is_usable(world, live_server, browser):
    base, _ = live_server
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    log_in(page, base, "manager")
    # No sideways scrolling at phone width: the table stacks into cards.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    context.close()
