"""The product shelf's pages: admins edit, retire and import; managers read and export."""

from __future__ import annotations

import io

import openpyxl
import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditLog, Product
from crm.models.enums import RiskLevel

pytestmark = pytest.mark.backends("sqlite")

EN = {"Accept-Language": "en"}


def products() -> dict[tuple[str, str], Product]:
    db.session.expire_all()
    return {(p.name, p.insurer): p for p in db.session.scalars(sa.select(Product))}


def upload(auth, text: str, name: str = "shelf.csv"):
    data = text.encode("utf-8")
    return auth.client.post(
        "/admin/products/import",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        headers=EN,
    )


def test_an_admin_adds_edits_and_retires_a_product_on_the_pages(world, auth):
    auth.login("admin")
    bad = auth.client.post(
        "/admin/products/new",
        data={"name": "金瑞人生", "insurer": "国寿", "product_type": "annuity", "risk_level": "R9"},
        headers=EN,
    )
    assert bad.status_code == 200 and "R1 to R5" in bad.get_data(as_text=True)
    assert ("金瑞人生", "国寿") not in products()
    saved = auth.client.post(
        "/admin/products/new",
        data={
            "name": "金瑞人生",
            "insurer": "国寿",
            "product_type": "annuity",
            "risk_level": "R2",
            "term_years": "20",
            "regular_years": "5, 10",
            "single_premium": "y",
            "age_bands": "41-50",
        },
    )
    assert saved.status_code == 302
    product = products()[("金瑞人生", "国寿")]
    assert product.regular_terms == [5, 10] and product.single_premium
    page = auth.client.get("/admin/products", headers={"Accept-Language": "zh-CN"})
    text = page.get_data(as_text=True)
    assert "金瑞人生" in text and "期交 5/10 年" in text and "下架" in text
    retired = auth.client.post(f"/admin/products/{product.id}/retire")
    assert retired.status_code == 302
    assert not products()[("金瑞人生", "国寿")].active
    actions = db.session.scalars(
        sa.select(AuditLog.action).where(
            AuditLog.entity == "product", AuditLog.entity_id == product.id
        )
    ).all()
    assert "create" in actions and "retire" in actions


def test_a_manager_reads_and_exports_the_shelf_but_changes_nothing(world, auth):
    auth.login("manager")
    page = auth.client.get("/admin/products", headers=EN).get_data(as_text=True)
    assert "年金保险" in page and "New product" not in page and "Retire" not in page
    some = next(iter(products().values()))
    assert auth.client.post(f"/admin/products/{some.id}/retire").status_code == 404
    assert auth.client.post("/admin/products/import").status_code == 404
    exported = auth.client.get("/admin/products/export.xlsx", headers=EN)
    sheet = openpyxl.load_workbook(io.BytesIO(exported.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("Product name", "Insurer", "Product type", "Risk level")
    assert len(rows) == 1 + len(products())


def test_an_import_with_a_bad_row_changes_nothing_and_says_which_line(world, auth):
    auth.login("admin")
    before = {k: (p.risk_level, p.version) for k, p in products().items()}
    response = upload(
        auth,
        "产品名称,保险公司,产品类型,风险等级,保险期间（年）,开售日期,停售日期\n"
        "鑫利两全保险,太平人寿,分红险,R2,10,2026-01-01,\n"
        "年金保险,,年金险,R7,,,\n"
        "安心定期寿险,太平人寿,保障型,R1,十年,2026-01-01,2025-01-01\n",
    )
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Nothing was imported" in text
    assert "R1 to R5" in text and "whole number of years" in text
    assert "cannot be before the first" in text
    assert {k: (p.risk_level, p.version) for k, p in products().items()} == before


def test_an_export_edited_and_imported_updates_and_adds(world, auth):
    auth.login("admin")
    exported = auth.client.get("/admin/products/export.csv", headers=EN).get_data(as_text=True)
    lines = exported.lstrip("\ufeff").splitlines()
    annuity = next(i for i, line in enumerate(lines) if line.startswith("年金保险,"))
    cells = lines[annuity].split(",")
    cells[3] = "R3"  # re-rated by the insurer
    lines[annuity] = ",".join(cells)
    lines.append("稳赢一号,本行,Deposit,R1,,No,,No,61+,,,Yes")
    response = upload(auth, "\n".join(lines))
    assert response.status_code == 302, response.get_data(as_text=True)
    shelf = products()
    assert shelf[("年金保险", "")].risk_level == RiskLevel.R3
    assert shelf[("稳赢一号", "本行")].bands == [(61, None)]
    assert len(shelf) == len(lines) - 1
