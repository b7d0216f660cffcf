"""The churn weights page in a real browser: an admin on a phone types a weight that is no
number and is told so, previews the levels under a new weight, saves it; a manager reads the
weights in English at desktop width."""

import pytest
from playwright.sync_api import expect

from crm.services.retention import signals
from tests.support.factories import PASSWORD

pytestmark = pytest.mark.browser


def log_in(page, base, username, label_user="用户名", label_password="密码", button="登录"):
    page.goto(f"{base}/login")
    page.get_by_label(label_user).fill(username)
    page.get_by_label(label_password).fill(PASSWORD)
    page.get_by_role("button", name=button).click()
    page.wait_for_url(f"{base}/today")


def test_an_admin_on_a_phone_is_refused_a_bad_weight_previews_and_saves(
    world, live_server, browser
):
    base, app = live_server
    context = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 740})
    phone = context.new_page()
    try:
        log_in(phone, base, "admin")
        phone.goto(f"{base}/admin/churn-weights")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 375
        silence = phone.get_by_label("长期无正面接触")
        expect(silence).to_have_value("25")
        silence.fill("很多")
        phone.get_by_role("button", name="保存").click()
        expect(phone.get_by_role("alert").first).to_contain_text("未保存任何内容")
        expect(phone.locator("#weight\\.silence-error")).to_have_text(
            "权重须为数字，例如 15 或 7.5。"
        )
        expect(silence).to_have_value("很多")

        silence.fill("100")
        phone.get_by_role("button", name="预览各等级人数").click()
        expect(phone.get_by_test_id("levels-preview")).to_be_visible()
        expect(silence).to_have_value("100")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 375

        phone.get_by_role("button", name="保存").click()
        expect(phone.locator("main")).to_contain_text("流失预警权重已保存")
        expect(phone.get_by_label("长期无正面接触")).to_have_value("100")
    finally:
        context.close()
    with app.app_context():
        assert signals.current_weights()["silence"] == 100


def test_a_manager_reads_the_weights_in_english(world, live_server, browser):
    base, _ = live_server
    context = browser.new_context(locale="en-US", viewport={"width": 1440, "height": 900})
    page = context.new_page()
    try:
        log_in(page, base, "manager", "Username", "Password", "Log in")
        page.get_by_role("link", name="Churn weights").click()
        page.wait_for_url(f"{base}/admin/churn-weights")
        weights = page.get_by_test_id("weights")
        expect(weights).to_contain_text("Silence: weight 25")
        expect(weights).to_contain_text("Liquid assets revised down 20% or more in 180 days")
        expect(page.locator("input[name^='weight.']")).to_have_count(0)
        assert page.evaluate("document.documentElement.scrollWidth") <= 1440
    finally:
        context.close()
