"""What a spreadsheet could evaluate: every export neutralises it (phones included, in CSV and
XLSX alike), an import reads it back as the text it was, and a text cell holds what a form's
text field would, while a workbook's real formula is never read."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from crm.extensions import db
from crm.models import Customer
from crm.services.customers import dossier
from crm.services.customers.customer_list import CustomerFilters
from crm.services.transfer import exporter, importer, spreadsheets
from crm.services.transfer.exporter import Format

NAME = '=HYPERLINK("http://evil.example","点我")'
PHONE = "+14155550123"


@pytest.fixture
def risky(world):
    customer = dossier.create_customer(
        world.admin,
        {
            "name": NAME,
            "phone": PHONE,
            "gender": "unspecified",
            "risk_level": "R1",
            "willingness": 30,
            "owner_id": world.alice.id,
            "occupation": "＠SUM(1)",
            "notes": "-2+3",
        },
    )
    db.session.commit()
    return customer


def admins_export(world, format: Format) -> tuple[dict[str, tuple], bytes]:
    """The admin's export (full phones): the risky customer's cells by English header, each
    as (value, type: "s" for text in a workbook, None in a CSV), and the file."""
    with force_locale("en"):
        started = exporter.start_export(world.admin, CustomerFilters(q="0123"), format)
        if format == Format.CSV:
            content = b"".join(exporter.csv_chunks(started))
            rows = [
                [(v, None) for v in r] for r in csv.reader(io.StringIO(content.decode("utf-8-sig")))
            ]
        else:
            out = io.BytesIO()
            exporter.write_xlsx(started, out)
            content = out.getvalue()
            sheet = openpyxl.load_workbook(io.BytesIO(content)).active
            rows = [[(c.value, c.data_type) for c in r] for r in sheet.iter_rows()]
    db.session.commit()
    header = [v for v, _ in rows[0]]
    (row,) = [r for r in rows[1:] if "4155550123" in str(r[header.index("phone")][0])]
    return dict(zip(header, row, strict=True)), content


@pytest.mark.parametrize("format", [Format.CSV, Format.XLSX])
def test_an_export_neutralises_every_cell_a_spreadsheet_could_evaluate(world, risky, format):
    cells, _ = admins_export(world, format)
    text = "s" if format == Format.XLSX else None  # a workbook's cells are text, never formulas
    assert cells["name"] == ("'" + NAME, text)
    assert cells["phone"] == ("'" + PHONE, text)
    assert cells["occupation"] == ("'＠SUM(1)", text)
    assert cells["notes"] == ("'-2+3", text)


@pytest.mark.parametrize("format", [Format.CSV, Format.XLSX])
def test_what_was_neutralised_imports_back_as_it_was(world, risky, format):
    _, content = admins_export(world, format)
    db.session.execute(sa.delete(Customer).where(Customer.id == risky.id))
    db.session.commit()
    report = importer.import_file(world.admin, f"export.{format.value}", content)
    db.session.commit()
    assert report.problems == [] and report.created == 1
    back = db.session.scalar(sa.select(Customer).where(Customer.phone == PHONE))
    assert (back.name, back.occupation, back.notes) == (NAME, "＠SUM(1)", "-2+3")


def test_a_workbooks_formula_is_refused_but_its_text_cells_are_text(world):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["姓名", "手机"])
    sheet.append(["=CONCATENATE(A1,B1)", "13512345678"])  # a formula: its value is not in the file
    sheet.append(["=赵磊", "13612345678"])
    sheet["A3"].data_type = "s"  # typed as text
    out = io.BytesIO()
    book.save(out)

    report = importer.import_file(world.manager, "名单.xlsx", out.getvalue())
    with force_locale("en"):
        problems = [(p.line, p.column, str(p.message)) for p in report.problems]
    assert [(line, column) for line, column, _ in problems] == [(2, "姓名")]
    assert "Formulas are not accepted" in problems[0][2]


STARTS = ["=1+2", "+1415", "-5", "@x", "＝x", "＋x", "－x", "＠x", "\tx", "\rx"]


@pytest.mark.parametrize("text", [*STARTS, "'=x", "''+x", "'\tx"])
def test_neutralise_and_unescape_give_the_text_back(text):
    marked = spreadsheets.neutralise(text)
    assert marked == "'" + text
    assert spreadsheets.unescape(marked) == text


@pytest.mark.parametrize("text", ["张伟", "'张伟", "13800001111", ""])
def test_plain_text_is_left_alone(text):
    assert spreadsheets.neutralise(text) == text
    assert spreadsheets.unescape(text) == text
