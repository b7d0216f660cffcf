"""The customer list's bulk actions in a real browser, at 375 and 1440 px: tick two rows,
tag them, and see the tag on just those rows; "select all on this page" ticks every row and
invites them to an event; the page never scrolls sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from crm.extensions import db
from crm.services.experiences import events
from tests.services.experiences.event_helpers import data
from tests.support.factories import PASSWORD, make_customer

pytestmark = [pytest.mark.browser, pytest.mark.backends("sqlite")]

WIDTHS = [375, 1440]


@pytest.fixture
def at(browser):
    contexts = []

    def open_page(width):
        context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 800})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield open_page
    for context in contexts:
        context.close()


def log_in(page, base, username):
    page.goto(f"{base}/login?next=/customers")
    page.locator('input[name="username"]').fill(username)
    page.locator('input[name="password"]').fill(PASSWORD)
    page.locator('form button[type="submit"]').first.click()
    page.wait_for_url(f"{base}/customers")


def scrolls_sideways(page) -> bool:
    return page.evaluate("document.scrollingElement.scrollWidth > innerWidth")


@pytest.mark.parametrize("width", WIDTHS)
def test_ticking_rows_and_tagging_them(world, live_server, at, width):
    for name, phone in (("赵敏", "+8613700000001"), ("孙丽", "+8613700000002")):
        make_customer(world.alice, name, phone)
    db.session.commit()
    base, _ = live_server
    page = at(width)
    log_in(page, base, "alice")
    assert not scrolls_sideways(page)
    rows = page.locator("table.list tbody tr")
    expect(rows).to_have_count(3)
    for name in ("赵敏", "张伟"):
        row = rows.filter(has_text=name)
        row.get_by_role("checkbox").check()
    page.get_by_label("要添加或移除的标签").fill("高净值")
    page.get_by_role("button", name="添加标签").click()
    expect(page.locator(".flash.success")).to_have_text("已为 2 位客户添加标签“高净值”。")
    assert not scrolls_sideways(page)
    # The rows' tags are hidden on a phone's compact rows: filter by the tag instead.
    page.goto(f"{base}/customers?tag=高净值")
    names = sorted(page.locator("table.list tbody .c-name").all_inner_texts())
    assert names == ["张伟", "赵敏"]


@pytest.mark.parametrize("width", WIDTHS)
def test_select_all_on_the_page_and_invite_them(world, live_server, at, width):
    event = events.create_event(world.manager, data(capacity="5", total_cost="100.00"))
    db.session.commit()
    base, _ = live_server
    page = at(width)
    log_in(page, base, "manager")
    page.get_by_label("全选本页").check()
    boxes = page.locator('table.list tbody input[type="checkbox"]')
    expect(boxes).to_have_count(2)
    for i in range(2):
        expect(boxes.nth(i)).to_be_checked()
    # Unticking one row unticks "all on this page": what is sent is what is shown.
    boxes.nth(1).uncheck()
    expect(page.get_by_label("全选本页")).not_to_be_checked()
    boxes.nth(1).check()
    expect(page.get_by_label("全选本页")).to_be_checked()
    page.get_by_role("button", name="邀请参加活动…").click()
    expect(page.get_by_role("heading", name="邀请参加活动")).to_be_visible()
    expect(page.get_by_text("已选 2 位客户：")).to_be_visible()
    assert not scrolls_sideways(page)
    page.get_by_label("活动").select_option(str(event.id))
    page.get_by_role("button", name="邀请", exact=True).click()
    expect(page.get_by_role("heading", name="已邀请 2 位客户")).to_be_visible()
    assert not scrolls_sideways(page)
