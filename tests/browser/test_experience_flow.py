"""The operating loop in a real browser: from the agenda, record a visit, revise the dossier,
and see the customer move to a new quadrant."""

from datetime import timedelta

import pytest

from crm.core.clock import local_today
from crm.extensions import db
from crm.models.enums import MoveCause
from crm.services.customers import tiering
from crm.services.experiences import plans
from tests.browser.test_dossier_flow import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def visit_due(world):
    customer = world.alice_customer
    customer.willingness = 57  # develop, three short of maintain
    customer.created_at = customer.created_at - timedelta(days=10)
    tiering.place(customer, MoveCause.IMPORT, None, first=True)
    db.session.commit()
    visit = plans.add_experience(
        world.alice, customer, {"category": "visit", "due_on": local_today() - timedelta(days=1)}
    )
    db.session.commit()
    return visit


def test_record_a_visit_from_the_agenda_and_see_the_new_quadrant(
    world, visit_due, live_server, page
):
    visit = visit_due
    base, _ = live_server
    log_in(page, base, "alice")
    page.get_by_role("link", name="日程").click()
    overdue = page.locator("section.overdue")
    assert "张伟" in overdue.inner_text() and "定期拜访" in overdue.inner_text()
    overdue.get_by_role("link", name="记录").click()
    page.wait_for_url(f"{base}/experiences/{visit.id}/record")

    page.get_by_label("客户反馈").select_option(label="积极")
    page.get_by_label("实际费用（元）").fill("120")
    page.get_by_label("流动资产（元）").fill("180000")
    page.get_by_label("备注").fill("送了生日礼物，客户很高兴")
    page.get_by_role("button", name="保存记录").click()

    # A warm response: the dossier also offers to open an opportunity (商机) from the visit.
    page.wait_for_url(f"{base}/customers/{world.alice_customer.id}?*")
    main = page.locator("main").inner_text()
    assert "客户由“开发”迁至“维系”" in main and "客户表现出购买意向" in main
    assert page.get_by_test_id("quadrant").inner_text() == "维系"
    past = page.get_by_test_id("past").inner_text()
    assert "¥120.00" in past and "积极" in past and "送了生日礼物" in past
    timeline = page.locator("#tier .timeline").inner_text()
    assert "体验" in timeline and "定期拜访" in timeline


def test_agenda_fits_a_phone(world, visit_due, live_server, browser):
    base, _ = live_server
    context = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 740})
    phone = context.new_page()
    try:
        log_in(phone, base, "alice")
        phone.goto(f"{base}/agenda")
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 375
        assert phone.get_by_role("link", name="记录").first.is_visible()
    finally:
        context.close()
