"""The dashboard in Chromium: every chart drawn by the app's own ECharts (a canvas in each),
in Chinese and in English, on a desktop and at 375 px, without a console error or sideways
scroll."""

from __future__ import annotations

import pytest

from crm.extensions import db
from crm.models.enums import MoveCause
from crm.services.customers import tiering
from tests.support.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.backends("sqlite")]

CHARTS = ("quadrants", "migrations", "assets", "budget", "followup", "complaints")
WIDE = "document.documentElement.scrollWidth - window.innerWidth"
FIRST_SERIES = (
    "id => echarts.getInstanceByDom(document.getElementById(id)).getOption().series[0].name"
)


@pytest.fixture
def placed(world):
    for customer in (world.alice_customer, world.bob_customer, world.carol_customer):
        tiering.place(customer, MoveCause.IMPORT, None, first=True)
    db.session.commit()
    return world


@pytest.mark.parametrize(
    "language, width, develop",
    [("zh", 375, "开发"), ("en", 375, "Develop"), ("zh", 1440, "开发"), ("en", 1440, "Develop")],
)
def test_every_chart_is_drawn(browser, live_server, placed, language, width, develop):
    base, _app = live_server
    context = browser.new_context(
        locale="zh-CN" if language == "zh" else "en-US", viewport={"width": width, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(e))
    try:
        page.goto(f"{base}/login?next=/dashboard")
        page.locator("input[name=username]").fill("manager")
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("button[type=submit]").last.click()
        page.wait_for_url(f"{base}/dashboard")
        page.wait_for_function(
            f"document.querySelectorAll('.chart[data-drawn=true]').length === {len(CHARTS)}"
        )
        for chart in CHARTS:
            box = page.locator(f"#chart-{chart}")
            assert box.locator("canvas").count() >= 1, chart
            assert box.bounding_box()["width"] > 200, chart
        assert page.evaluate(FIRST_SERIES, "chart-quadrants") == develop
        assert page.evaluate(WIDE) <= 0
        # The browser's own ask for /favicon.ico (the app has none) is no error of the page.
        errors = [p for p in problems if "favicon.ico" not in str(getattr(p, "location", ""))]
        assert [str(getattr(p, "text", p)) for p in errors] == []
    finally:
        context.close()
