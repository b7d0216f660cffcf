"""The header on a phone and on a desk: the menu folded behind one button at 375 px (open,
close, Escape), shown whole at 1440 px; the search box on every page going straight to a
dossier; the customer list sorted by a column."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from crm.extensions import db
from tests.support.factories import PASSWORD, make_customer

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}
DESK = {"width": 1440, "height": 900}


@pytest.fixture
def at(browser):
    """A page at a given width, in Chinese, signed in as nobody yet."""
    contexts = []

    def open_page(viewport):
        context = browser.new_context(locale="zh-CN", viewport=viewport)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield open_page
    for context in contexts:
        context.close()


def log_in(page, base, username):
    # Staff land on /today; these tests start from the customer list, so they ask for it.
    page.goto(f"{base}/login?next=/customers")
    page.locator('input[name="username"]').fill(username)
    page.locator('input[name="password"]').fill(PASSWORD)
    page.locator('form button[type="submit"], form input[type="submit"]').first.click()
    page.wait_for_url(f"{base}/customers")


def test_on_a_phone_the_menu_folds_behind_one_button(world, live_server, at):
    base, _ = live_server
    page = at(PHONE)
    log_in(page, base, "admin")
    button = page.get_by_role("button", name="菜单")
    agenda = page.locator("header nav").get_by_role("link", name="日程")
    expect(button).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(agenda).to_be_hidden()
    # The whole header, search box included, in less than half the 220 px it wrapped into.
    assert page.locator("header.top").bounding_box()["height"] < 110

    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(agenda).to_be_visible()
    expect(page.get_by_role("button", name="退出")).to_be_visible()
    button.click()
    expect(agenda).to_be_hidden()

    # By keyboard: Enter opens it, Escape closes it and leaves the focus on the button.
    button.focus()
    page.keyboard.press("Enter")
    expect(agenda).to_be_visible()
    page.keyboard.press("Escape")
    expect(agenda).to_be_hidden()
    expect(button).to_be_focused()
    expect(button).to_have_attribute("aria-expanded", "false")

    agenda_link = page.locator("header nav").get_by_role("link", name="日程")
    button.click()
    agenda_link.click()
    page.wait_for_url(f"{base}/agenda")


def test_on_a_desk_the_menu_shows_whole_without_a_button(world, live_server, at):
    base, _ = live_server
    page = at(DESK)
    log_in(page, base, "admin")
    expect(page.get_by_role("button", name="菜单")).to_be_hidden()
    for name in ("日程", "客户", "活动", "员工"):
        expect(
            page.locator("header nav").get_by_role("link", name=name, exact=True)
        ).to_be_visible()


@pytest.mark.parametrize("viewport", [PHONE, DESK], ids=["375", "1440"])
def test_the_header_search_goes_straight_to_the_dossier(world, live_server, at, viewport):
    base, _ = live_server
    page = at(viewport)
    log_in(page, base, "alice")
    page.goto(f"{base}/agenda")
    search = page.get_by_role("searchbox", name="查找客户")
    search.fill("zhangw")
    search.press("Enter")
    page.wait_for_url(f"{base}/customers/{world.alice_customer.id}")
    assert "张伟" in page.locator("h1").inner_text()


@pytest.mark.parametrize("viewport", [PHONE, DESK], ids=["375", "1440"])
def test_the_header_search_lists_several_matches(world, live_server, at, viewport):
    make_customer(world.alice, "张敏", "+8613700004444")
    db.session.commit()
    base, _ = live_server
    page = at(viewport)
    log_in(page, base, "alice")
    search = page.get_by_role("searchbox", name="查找客户")
    search.fill("张")
    search.press("Enter")
    page.wait_for_url(f"{base}/customers?q=*")
    expect(page.locator("table.list tbody tr")).to_have_count(2)
    expect(page.get_by_test_id("total")).to_have_text("共 2 位客户")


@pytest.mark.parametrize("viewport", [PHONE, DESK], ids=["375", "1440"])
def test_sorting_changes_the_order(world, live_server, at, viewport):
    for name, assets in (("赵敏", "2500000"), ("陈静", "90000"), ("安然", "600000")):
        make_customer(
            world.alice, name, f"+86137{len(name)}{assets[:6]:0>6}", liquid_assets=Decimal(assets)
        )
    db.session.commit()
    base, _ = live_server
    page = at(viewport)
    log_in(page, base, "alice")
    names = page.locator("table.list tbody tr td.c-name")
    expect(names).to_have_text(["安然", "陈静", "赵敏", "张伟"])  # newest first

    page.get_by_label("排序方式").select_option(label="流动资产（从高到低）")
    page.get_by_role("button", name="查询").click()
    page.wait_for_url("**sort=assets**")
    expect(names).to_have_text(["赵敏", "安然", "张伟", "陈静"])

    page.get_by_label("排序方式").select_option(label="姓名（按拼音）")
    page.get_by_role("button", name="查询").click()
    expect(names).to_have_text(["安然", "陈静", "张伟", "赵敏"])  # an, chen, zhang, zhao
    if viewport is DESK:
        # The column headers sort too, and say which one the list is sorted by.
        page.locator("thead").get_by_role("link", name="意愿").click()
        page.wait_for_url("**sort=willingness**")
        expect(page.locator("th[aria-sort]")).to_have_text("意愿")
    else:
        # One compact row a customer: a few lines, not a card of eight.
        row = page.locator("table.list tbody tr").first
        assert row.bounding_box()["height"] < 70
