"""Hunt to Harvest, in a real browser: a prospect is converted into a dossier, an opportunity
is opened on it and moved stage by stage with one button each, and is won by recording the
policy, which an investment-type product refuses until seed 000's compliance is filled in."""

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from crm.extensions import db
from crm.models import Opportunity, Policy
from crm.models.enums import SalesStage
from tests.support.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.backends("sqlite")]


def test_a_prospect_becomes_a_won_policy(world, live_server, page):
    base, _ = live_server
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill("alice")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/today")

    # Hunt: a prospect, moved along and converted into a dossier.
    page.goto(f"{base}/prospects/new")
    page.get_by_label("姓名").fill("周敏")
    page.get_by_label("手机号码").fill("13955556666")
    page.get_by_label("获客渠道").select_option("cold_visit")
    page.get_by_role("button", name="保存").click()
    page.get_by_role("button", name="标记为“已联系”").click()
    page.get_by_role("button", name="标记为“已确认意向”").click()
    page.get_by_role("link", name="建立客户档案").click()
    page.get_by_label("流动资产（元）").fill("2,000,000")
    page.get_by_label("风险等级").select_option("R3")
    page.get_by_role("button", name="建立档案").click()
    page.wait_for_url(f"{base}/customers/*")

    # Harvest: an opportunity on a universal life product (万能险, R3), from the dossier.
    page.get_by_test_id("new-opportunity").click()
    product = page.get_by_label("在售产品")
    universal = product.locator("option", has_text="万能").first.get_attribute("value")
    product.select_option(universal)
    page.get_by_label("预计保费（元）").fill("200,000")
    page.get_by_label("交费方式").select_option("single")
    page.get_by_role("button", name="创建商机").click()
    expect(page.get_by_test_id("stage")).to_have_text("线索")

    for following in ("需求分析", "方案建议", "促成"):
        page.get_by_role("button", name=f"推进到{following}").click()
        expect(page.get_by_test_id("stage")).to_have_text(following)

    page.get_by_role("link", name="登记成交").first.click()
    page.get_by_label("保单号").fill("WN-2026-0001")
    page.get_by_role("button", name="登记成交").click()
    expect(page.locator(".has-error .error").first).to_be_visible()
    errors = page.locator(".has-error .error").all_inner_texts()
    assert any("双录编号" in e for e in errors), errors
    assert any("假设情景" in e for e in errors) and any("产品风险" in e for e in errors)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Policy)) == 0

    page.get_by_label("双录编号").fill("SL-2026-000777")
    page.get_by_label("已告知客户收益演示为假设情景").check()
    page.get_by_label("客户已了解产品风险").check()
    page.get_by_role("button", name="登记成交").click()
    page.wait_for_url(f"{base}/customers/*")
    main = page.locator("main").inner_text()
    assert "已登记成交：保单 WN-2026-0001" in main and "¥200,000.00" in main
    opportunities = page.locator("#opportunities").inner_text()
    assert "成交" in opportunities

    db.session.expire_all()
    policy = db.session.scalars(sa.select(Policy)).one()
    won = db.session.get(Opportunity, policy.opportunity_id)
    assert won.stage == SalesStage.WON and policy.dual_recording_ref == "SL-2026-000777"
    assert won.customer.name == "周敏"
