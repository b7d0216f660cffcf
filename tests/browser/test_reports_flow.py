"""A manager's monthly reports in a real browser: the navigation leads to /reports, the list
shows the branch's reports, and a report opens with its styles and inline chart shown (the
report's own content security policy) and no script run."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from analytics import delivery  # noqa: E402
from crm.extensions import db  # noqa: E402
from crm.models import MonthlyReport  # noqa: E402
from tests.analytics.test_delivery import FIRST  # noqa: E402
from tests.browser.test_dossier_flow import log_in  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.backends("sqlite")]


def chart_png() -> str:
    figure, ax = plt.subplots(figsize=(3, 2))
    ax.bar(["a", "b"], [3, 5])
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode()


def a_report_page(name, out, **_):
    """A page shaped as analytics/report.py writes one: inline style, a data: chart, and a
    script that must not run."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><title>客户分层迁移</title>"
        "<style>h1 { color: rgb(192, 57, 43); }</style></head><body>"
        f"<h1>{name}：迁移矩阵</h1>"
        f"<img alt='chart' src='data:image/png;base64,{chart_png()}'>"
        "<script>document.title = 'script ran';</script></body></html>",
        encoding="utf-8",
    )
    return out


def test_a_manager_opens_reports_from_the_menu_and_reads_one(world, live_server, page, tmp_path):
    base, app = live_server
    app.config["CRM_REPORTS_FOLDER"] = str(tmp_path / "reports")
    with app.app_context():
        delivery.make_monthly_reports(FIRST, a_report_page)
        report_id = db.session.scalar(
            sa.select(MonthlyReport.id).where(
                MonthlyReport.branch_id == world.east.id, MonthlyReport.kind == "migration"
            )
        )
        db.session.remove()

    log_in(page, base, "manager")
    page.get_by_role("link", name="报告", exact=True).first.click()
    page.wait_for_url(f"{base}/reports")
    rows = page.locator("tr[data-report]")
    assert rows.count() == 3
    assert "2026年11月" in rows.first.inner_text() and "城东支行" in rows.first.inner_text()

    page.locator(f"tr[data-report='{report_id}']").get_by_role("link", name="打开").click()
    page.wait_for_url(f"{base}/reports/{report_id}")
    heading = page.locator("h1")
    assert heading.inner_text() == "migration：迁移矩阵"
    assert heading.evaluate("h => getComputedStyle(h).color") == "rgb(192, 57, 43)"
    assert page.locator("img[alt=chart]").evaluate("i => i.complete && i.naturalWidth") > 0
    assert page.title() == "客户分层迁移"  # the script did not run
