"""Exporting customer lists: masked phones, only what the user sees, audited, and re-importable."""

import csv
import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from crm.extensions import db
from crm.models import AuditLog, Customer
from crm.models.enums import RiskLevel
from crm.services.customers import dossier
from crm.services.customers.customer_list import CustomerFilters
from crm.services.transfer import exporter, importer
from crm.services.transfer.check import check_file
from crm.services.transfer.exporter import Format

EVERYONE = CustomerFilters()


def export_csv(user, filters=EVERYONE, locale="zh_CN"):
    with force_locale(locale):
        started = exporter.start_export(user, filters, Format.CSV)
        content = b"".join(exporter.csv_chunks(started))
    db.session.commit()
    assert content.startswith("\ufeff".encode())  # Excel reads the Chinese right with it
    return content, list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def export_xlsx(user, filters=EVERYONE, locale="zh_CN"):
    out = io.BytesIO()
    with force_locale(locale):
        started = exporter.start_export(user, filters, Format.XLSX)
        exporter.write_xlsx(started, out)
    db.session.commit()
    return out.getvalue()


def column(rows, header):
    return [row[rows[0].index(header)] for row in rows[1:]]


@pytest.mark.parametrize("who, phones", [("alice", ["138****1111"]), ("manager", None)])
def test_staff_and_managers_get_masked_phones_and_only_their_customers(world, who, phones):
    _, rows = export_csv(getattr(world, who))
    names = column(rows, "姓名")
    if who == "alice":
        assert names == ["张伟"] and column(rows, "手机") == phones
    else:
        assert names == ["张伟", "李娜"]  # the east branch; 王芳 is the west's
        assert column(rows, "手机") == ["138****1111", "139****2222"]


def test_admins_get_full_numbers_of_everyone(world):
    _, rows = export_csv(world.admin)
    assert column(rows, "手机") == ["13800001111", "13900002222", "18600003333"]


def test_the_list_filters_apply(world):
    world.bob_customer.risk_level = RiskLevel.R4
    db.session.commit()
    _, rows = export_csv(world.manager, CustomerFilters(risk=RiskLevel.R4))
    assert column(rows, "姓名") == ["李娜"]
    _, rows = export_csv(world.manager, CustomerFilters(q="张"))
    assert column(rows, "姓名") == ["张伟"]


def test_every_export_is_audited_with_its_filters_rows_and_masking(world):
    export_csv(world.manager, CustomerFilters(q="张"))
    export_xlsx(world.admin)
    rows = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.entity == "export").order_by(AuditLog.id)
    ).all()
    recorded = [(r.actor_id, r.field, r.new_value) for r in rows]
    assert recorded == [
        (world.manager.id, "format", "csv"),
        (world.manager.id, "filters", "q=%E5%BC%A0"),
        (world.manager.id, "rows", "1"),
        (world.manager.id, "phones", "masked"),
        (world.admin.id, "format", "xlsx"),
        (world.admin.id, "filters", "-"),
        (world.admin.id, "rows", "3"),
        (world.admin.id, "phones", "full"),
    ]


def test_cells_that_would_run_as_formulas_are_neutralised(world):
    world.alice_customer.notes = '=HYPERLINK("http://evil")'
    world.alice_customer.occupation = "@SUM(1)"
    db.session.commit()
    _, rows = export_csv(world.alice)
    assert column(rows, "备注") == ['\'=HYPERLINK("http://evil")']
    assert column(rows, "职业") == ["'@SUM(1)"]
    sheet = openpyxl.load_workbook(io.BytesIO(export_xlsx(world.alice))).active
    notes = [c for c in sheet[2] if c.value and "HYPERLINK" in str(c.value)]
    assert [(c.value, c.data_type) for c in notes] == [('\'=HYPERLINK("http://evil")', "s")]


def dossiers():
    db.session.expire_all()
    return [
        (
            c.name, c.phone, c.gender, c.birth_date, c.liquid_assets, c.assets_as_of,
            c.willingness, c.risk_level, c.channel, c.owner_id, c.branch_id, c.tag_names,
            c.sms_consent, c.email, c.occupation, c.family_notes, c.interests_notes, c.notes,
        )
        for c in db.session.scalars(sa.select(Customer).order_by(Customer.phone))
    ]  # fmt: skip


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
@pytest.mark.parametrize("format", ["csv", "xlsx"])
def test_an_admins_export_imports_again_unchanged(world, format, locale):
    dossier.create_customer(
        world.admin,
        {
            "name": "赵磊",
            "phone": "13512345678",
            "gender": "male",
            "birth_date": date(1980, 5, 1),
            "liquid_assets": Decimal("1200000.50"),
            "assets_as_of": date(2025, 12, 31),
            "willingness": 65,
            "risk_level": "R3",
            "channel": "referral",
            "owner_id": world.carol.id,
            "tags": "高净值, 企业主",
            "sms_consent": True,
            "email": "zhao@example.com",
            "occupation": "-教师",
            "family_notes": "两个孩子",
            "interests_notes": "高尔夫, 书法",
            "notes": "+喜欢短信联系",
        },
    )
    db.session.commit()
    before = dossiers()
    if format == "csv":
        data, _ = export_csv(world.admin, locale=locale)
    else:
        data = export_xlsx(world.admin, locale=locale)

    db.session.execute(sa.delete(Customer))
    db.session.commit()
    with force_locale(locale):
        report = importer.import_file(world.admin, f"export.{format}", data)
    db.session.commit()

    assert report.problems == [] and report.created == 4
    assert dossiers() == before


def test_a_masked_export_is_refused_on_import_for_its_phones(world):
    data, _ = export_csv(world.manager)
    report = check_file(world.manager, "export.csv", data).report
    assert {p.column for p in report.problems} == {"手机"} and report.customers == 0
