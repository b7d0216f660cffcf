"""Approval requests in a real browser: a staff member's plan is refused for a × mark and the
budget; they ask a manager with a reason; the manager sees it on their today page, approves
it, and the experience is planned with the approver recorded; the staff member is told."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import Experience
from crm.models.enums import MoveCause
from crm.services.customers import tiering
from tests.browser.test_dossier_flow import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def develop(world):
    customer = world.alice_customer
    customer.created_at = customer.created_at - timedelta(days=10)
    tiering.place(customer, MoveCause.IMPORT, None, first=True)  # develop: no premium events
    db.session.commit()
    return customer


def test_a_staff_member_asks_and_a_manager_approves(world, develop, live_server, browser):
    base, _ = live_server
    staff = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 800})
    page = staff.new_page()
    page.set_default_timeout(10_000)
    log_in(page, base, "alice")
    page.goto(f"{base}/customers/{develop.id}/experiences/new")
    page.get_by_label("体验项目").select_option(label="高级活动")
    page.get_by_label("计划费用（元）").fill("1500")
    page.get_by_role("button", name="计划").click()
    page.get_by_test_id("ask-approval").get_by_role("link", name="申请审批").click()
    page.wait_for_url(f"{base}/customers/{develop.id}/approvals/new*")
    assert page.get_by_label("计划费用（元）").input_value() == "1500"
    page.get_by_label("为何应为客户安排此项体验").fill("客户保单下月到期，邀请参加高端酒会")
    page.get_by_role("button", name="申请审批").click()
    page.wait_for_url(f"{base}/customers/{develop.id}")
    assert "等待网点主管审批" in page.locator("main").inner_text()

    manager = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    boss = manager.new_page()
    boss.set_default_timeout(10_000)
    log_in(boss, base, "manager")
    boss.goto(f"{base}/today")
    boss.get_by_test_id("approvals-waiting").get_by_role("link").click()
    request = boss.get_by_test_id("waiting").locator("li").first
    assert "客户保单下月到期" in request.inner_text() and "体验矩阵" in request.inner_text()
    request.get_by_label("您的理由").fill("重点维护客户，同意")
    request.get_by_role("button", name="批准").click()
    boss.wait_for_url(f"{base}/approvals")
    assert "已批准：体验已列入计划。" in boss.locator("main").inner_text()
    assert "没有待审批的申请。" in boss.locator("main").inner_text()

    db.session.expire_all()
    experience = db.session.scalars(sa.select(Experience)).one()
    assert experience.approved_by_id == world.manager.id
    assert experience.approval_reason == "重点维护客户，同意"

    page.goto(f"{base}/notifications")
    assert "已批准" in page.locator("main").inner_text()
    staff.close()
    manager.close()
