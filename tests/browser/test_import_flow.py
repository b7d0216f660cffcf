"""A manager imports a bank's list in a real browser: one bad row, the report, the valid rows."""

import csv
import io

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from crm.extensions import db
from crm.models import Customer
from tests.browser.test_dossier_flow import log_in

pytestmark = pytest.mark.browser


def bank_list() -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(
        [
            ["姓名", "手机", "性别", "流动资产", "意愿"],
            ["赵磊", "13512345678", "男", "1200000", "55"],
            ["钱多多", "12345", "女", "", ""],
            ["孙悦", "13712345678", "女", "80000", "70"],
        ]
    )
    return out.getvalue().encode("gbk")  # as a bank's Excel in Chinese saves it


def test_upload_a_list_with_one_bad_row_read_the_report_and_import_the_rest(
    world, live_server, page, tmp_path
):
    base, app = live_server
    app.config["CRM_IMPORT_FOLDER"] = str(tmp_path / "imports")
    log_in(page, base, "manager")
    page.locator("a[href='/customers/import']").click()
    page.locator("input[type=file]").set_input_files(
        {"name": "客户名单.csv", "mimeType": "text/csv", "buffer": bank_list()}
    )
    page.locator("button[type=submit].primary").click()

    report = page.locator("table.report tbody tr")
    expect(report).to_have_count(1)
    cells = report.first.locator("td").all_inner_texts()
    assert cells[:2] == ["3", "手机"] and "号码" in cells[2]  # the dossier form's own words
    # Rows read, customers to create, policies, rows with problems.
    assert page.get_by_test_id("counts").locator("dd").all_inner_texts() == ["3", "2", "0", "1"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 3

    page.locator("form.actions button[name=mode]").click()
    page.wait_for_url(f"{base}/customers/import/*")
    with page.expect_download() as download:
        page.locator("a.button.primary[download]").click()
    rejects = download.value.path().read_bytes().decode("utf-8-sig")
    assert "钱多多,12345" in rejects and "号码" in rejects

    db.session.expire_all()
    names = db.session.scalars(sa.select(Customer.name).order_by(Customer.id)).all()
    assert names[3:] == ["赵磊", "孙悦"]
