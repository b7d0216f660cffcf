"""A manager in a real browser, in Chinese: checks what a design can detect, saves it, starts
it, and opens it from the list to read the counts and the peeking warning."""

from __future__ import annotations

import pytest

from crm.extensions import db
from crm.models.enums import Quadrant
from tests.browser.test_dossier_flow import log_in
from tests.services.experiments.helpers import customers_in

pytestmark = pytest.mark.browser


def test_a_manager_creates_starts_and_opens_an_experiment(world, live_server, page):
    customers_in(world.alice, Quadrant.MAINTAIN, 12)
    db.session.commit()
    base, _ = live_server
    log_in(page, base, "manager")
    page.get_by_role("link", name="对照实验").click()
    page.wait_for_url(f"{base}/experiments")
    page.get_by_role("link", name="新建实验").click()

    page.get_by_label("实验名称").fill("维系客户的拜访")
    page.get_by_label("停用的体验项目").select_option("visit")
    page.get_by_label("维系").check()
    page.get_by_label("对照组比例（%）").fill("25")
    page.get_by_label("主要指标").select_option("willingness_change")
    page.get_by_label("观察期（天）").fill("60")
    page.get_by_role("button", name="检验功效").click()
    power = page.get_by_test_id("power")
    assert "位客户" in power.inner_text()

    page.get_by_role("button", name="存为草稿").click()
    page.get_by_text("实验已存为草稿").wait_for()
    assert page.get_by_test_id("status").inner_text() == "草稿"
    page.get_by_test_id("start").click()
    page.get_by_text("实验已开始：已为 12 位客户分组。").wait_for()
    assert page.get_by_test_id("status").inner_text() == "进行中"

    page.get_by_role("link", name="对照实验").click()
    page.get_by_role("link", name="维系客户的拜访").click()
    counts = page.get_by_test_id("counts").inner_text()
    assert "照常服务组" in counts and "9" in counts and "3" in counts
    assert "尚未到观察期末" in page.get_by_test_id("peeking").inner_text()
    assert page.get_by_test_id("primary").count() == 0
