"""Shared helpers for the importer tests: customer lists made as CSV and XLSX files."""

import csv
import io

import openpyxl
import sqlalchemy as sa
from flask_babel import force_locale

from crm.extensions import db
from crm.models import AuditLog, Customer, Policy, QuadrantEvent, Tag

HEADER = ["姓名", "手机", "性别", "出生日期", "流动资产", "意愿", "风险等级", "标签", "短信同意"]
GOOD = [
    [
        "赵磊",
        "13512345678",
        "男",
        "1980/5/1",
        "1,200,000.50",
        "55",
        "R2 稳健型",
        "高净值，企业主",
        "是",
    ],
    ["钱芳", "13612345678", "女", "1975-11-30", "80000", "70", "R1", "", "否"],
]


def as_csv(rows, encoding="utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


def as_xlsx(rows) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def count(model):
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def customer(phone) -> Customer | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(Customer).where(Customer.phone == phone))


def problems(report):
    with force_locale("en"):
        return [(p.line, p.column, str(p.message)) for p in report.problems]


def snapshot():
    return tuple(count(m) for m in (Customer, Policy, QuadrantEvent, AuditLog, Tag))
