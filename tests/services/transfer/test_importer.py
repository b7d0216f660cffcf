"""Importing customer lists: real CSV and XLSX files, made here, read as a bank sends them."""

import csv
import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import AuditLog, Customer, QuadrantEvent
from crm.models.enums import Gender, MoveCause, Quadrant, RiskLevel
from crm.services.transfer import importer
from crm.services.transfer.check import check_file
from crm.services.transfer.rejects import rejects_file
from crm.services.transfer.report import Mode
from crm.services.transfer.write import write_customers
from tests.services.transfer.import_files import (
    GOOD,
    HEADER,
    as_csv,
    as_xlsx,
    count,
    customer,
    problems,
    snapshot,
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_a_csv_in_each_encoding_imports_with_events_tags_and_audit(world, encoding):
    report = importer.import_file(world.manager, "名单.csv", as_csv([HEADER, *GOOD], encoding))
    db.session.commit()

    assert report.written and report.created == 2 and not report.problems
    zhao = customer("+8613512345678")
    assert zhao.name == "赵磊" and zhao.gender == Gender.MALE
    assert zhao.birth_date == date(1980, 5, 1) and zhao.liquid_assets == Decimal("1200000.50")
    assert zhao.risk_level == RiskLevel.R2 and zhao.tag_names == ["企业主", "高净值"]
    assert zhao.sms_consent and zhao.sms_consent_at is not None and zhao.phone_last4 == "5678"
    # No owner column: the importing manager owns them, at the manager's branch.
    assert zhao.owner == world.manager and zhao.branch == world.east
    assert zhao.quadrant == Quadrant.CULTIVATE and customer("+8613612345678").quadrant == (
        Quadrant.MAINTAIN
    )
    events = db.session.scalars(
        sa.select(QuadrantEvent).where(QuadrantEvent.customer_id == zhao.id)
    )
    (event,) = events.all()
    assert event.cause == MoveCause.IMPORT and event.from_quadrant is None
    assert event.actor_id == world.manager.id and event.to_quadrant == Quadrant.CULTIVATE
    created = db.session.scalars(sa.select(AuditLog).where(AuditLog.customer_id == zhao.id)).all()
    assert [(a.action, a.actor_id, a.entity) for a in created] == [
        ("create", world.manager.id, "customer")
    ]
    assert "名单.csv" in created[0].reason
    (the_import,) = db.session.scalars(sa.select(AuditLog).where(AuditLog.entity == "import"))
    assert the_import.actor_id == world.manager.id and "2 customers" in the_import.reason


def test_english_headers_in_any_case_and_spacing_and_labels_or_codes(world):
    rows = [
        [" NAME ", "Mobile Phone", "gender", "Birth_Date", "Liquid assets (CNY)", "Risk level"],
        ["Li Lei", "+86 139 0000 4444", "Female", "1990-01-02", "¥2,000", "r3"],
        ["Han Mei", "13900005555", "unspecified", "19910203", "0", "R4 growth"],
    ]
    report = importer.import_file(world.manager, "list.csv", as_csv(rows))
    assert problems(report) == []
    li = customer("+8613900004444")
    assert li.gender == Gender.FEMALE and li.liquid_assets == Decimal("2000.00")
    assert li.risk_level == RiskLevel.R3 and li.birth_date == date(1990, 1, 2)
    assert customer("+8613900005555").risk_level == RiskLevel.R4


def test_xlsx_first_sheet_with_numbers_dates_and_a_title_row_above_the_headers(world):
    rows = [
        ["城东支行客户名单"],
        HEADER[:4] + ["流动资产"],
        ["孙悦", 13712345678, "女", date(1988, 8, 8), 1500000],
        ["周航", 13812349999, "男", None, 250000.5],
    ]
    report = importer.import_file(world.manager, "名单.xlsx", as_xlsx(rows))
    assert problems(report) == [] and report.kind == "xlsx"
    sun = customer("+8613712345678")
    assert sun.birth_date == date(1988, 8, 8) and sun.liquid_assets == Decimal("1500000.00")
    assert customer("+8613812349999").liquid_assets == Decimal("250000.50")


def test_missing_required_columns_are_named_in_the_users_language(world):
    before = snapshot()
    data = as_csv([["姓名", "性别"], ["赵磊", "男"]])
    with force_locale("zh_CN"), pytest.raises(InvalidInput) as chinese:
        importer.import_file(world.manager, "a.csv", data)
    with force_locale("en"), pytest.raises(InvalidInput) as english:
        importer.import_file(world.manager, "a.csv", data)
    with force_locale("zh_CN"):
        assert "手机" in str(chinese.value.errors["file"])
    with force_locale("en"):
        message = str(english.value.errors["file"])
    assert "no column for: phone" in message
    assert snapshot() == before


@pytest.mark.parametrize(
    "data, says",
    [
        (b"", "The file is empty"),
        (b"\xef\xbb\xbf\r\n\r\n", "The file is empty"),
        ("姓名,手机\r\n".encode(), "no rows"),
        (b"name,phone\n\x80\x80\xff\n", "neither UTF-8 nor GBK"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, ".xls"),
        (b"PK\x03\x04not really a workbook", "cannot be read"),
    ],
)
def test_files_that_cannot_be_read_get_a_clear_message_and_change_nothing(world, data, says):
    before = snapshot()
    with pytest.raises(InvalidInput) as error:
        importer.import_file(world.manager, "list.csv", data)
    with force_locale("en"):
        assert says in str(error.value.errors["file"])
    assert snapshot() == before


def test_an_admin_or_the_system_must_name_owners_in_the_file(world):
    data = as_csv([HEADER, *GOOD])
    for user in (world.admin, None):
        with pytest.raises(InvalidInput) as error:
            importer.import_file(user, "a.csv", data)
        with force_locale("en"):
            assert "naming each customer's owner" in str(error.value.errors["file"])
    with_owner = as_csv([[*HEADER, "客户经理"], *[[*row, "bob"] for row in GOOD]])
    assert importer.import_file(world.admin, "a.csv", with_owner).created == 2


def test_too_many_rows_is_refused_before_anything_is_written(app_factory):
    app = app_factory(CRM_IMPORT_MAX_ROWS=3)
    with app.app_context():
        rows = [
            ["姓名", "手机", "客户经理"],
            *[[f"客户{n}", f"1391234{n:04d}", "x"] for n in range(4)],
        ]
        with pytest.raises(InvalidInput) as error:
            importer.import_file(None, "big.csv", as_csv(rows))
        with force_locale("en"):
            assert "more than 3 rows" in str(error.value.errors["file"])
        assert count(Customer) == 0


def test_a_bad_phone_is_reported_by_line_and_column_and_nothing_is_written(world):
    before = snapshot()
    rows = [HEADER, GOOD[0], ["钱多多", "12345", "女", "", "", "", "", "", ""], GOOD[1]]
    report = importer.import_file(world.manager, "a.csv", as_csv(rows))
    assert not report.written and report.customers == 2
    ((line, column, reason),) = problems(report)
    assert (line, column) == (3, "手机") and "phone number" in reason
    assert snapshot() == before


def test_each_bad_value_gets_its_own_reason(world):
    rows = [
        HEADER + ["客户经理", "邮箱"],
        [
            "周五",
            "13612340000",
            "male",
            "1990-13-01",
            "-5",
            "200",
            "R9",
            "",
            "maybe",
            "nobody",
            "x@",
        ],
    ]
    report = check_file(world.manager, "a.csv", as_csv(rows)).report
    reasons = {column: reason for _, column, reason in problems(report)}
    assert set(reasons) == {
        "出生日期",
        "流动资产",
        "意愿",
        "风险等级",
        "短信同意",
        "客户经理",
        "邮箱",
    }
    assert "1980-05-31" in reasons["出生日期"] and "negative" in reasons["流动资产"]
    assert "R9" in reasons["风险等级"] and "nobody" in reasons["客户经理"]


def test_duplicates_in_the_file_and_of_recorded_customers_are_reported_not_created(world):
    rows = [
        HEADER[:2],
        ["赵磊", "13512345678"],
        ["赵磊", "135 1234 5678"],  # the same customer again
        ["张伟", "13800001111"],  # world.alice_customer's phone
    ]
    before = snapshot()
    report = importer.import_file(world.manager, "a.csv", as_csv(rows))
    assert not report.written and snapshot() == before
    found = problems(report)
    assert [(line, column) for line, column, _ in found] == [(2, ""), (3, "手机"), (4, "手机")]
    assert "line 2" in found[1][2] and "already exists" in found[2][2]
    # The first row alone is fine, but goes with its duplicate: all rows of a customer or none.
    assert "line 3" in found[0][2]


@pytest.mark.parametrize(
    "cell", ["=1+2", "+cmd|' /C calc'!A0", "@SUM(A1:A2)", "-2+3", "=HYPERLINK(x)"]
)
def test_formulas_are_refused(world, cell):
    rows = [HEADER[:3], ["赵磊", "13512345678", "男"], ["钱芳", "13612345678", cell]]
    report = importer.import_file(world.manager, "a.csv", as_csv(rows))
    assert not report.written
    ((line, column, reason),) = problems(report)
    assert (line, column) == (3, "性别") and "Formulas are not accepted" in reason


def test_formula_cells_of_a_workbook_are_refused(world):
    rows = [HEADER[:3], ["赵磊", "13512345678", "男"], ["钱芳", "=A2", "女"]]
    report = importer.import_file(world.manager, "a.xlsx", as_xlsx(rows))
    assert [(line, column) for line, column, _ in problems(report)] == [(3, "手机")]


def test_plain_numbers_placeholders_and_escaped_text_are_not_formulas(world):
    rows = [
        ["姓名", "手机", "邮箱", "备注"],
        ["赵磊", "+86 135 1234 5678", "-", "'=不是公式"],
    ]
    report = importer.import_file(world.manager, "a.csv", as_csv(rows))
    assert problems(report) == []
    zhao = customer("+8613512345678")
    assert zhao.email is None and zhao.notes == "=不是公式"


def test_control_characters_in_a_cell_are_refused_on_their_row(world):
    """A CSV is scanned whole first; where that finds one, rows are checked one by one, so
    the report still names the row. (A workbook cannot hold them at all.)"""
    rows = [HEADER, GOOD[0], ["孙\x07丽", "13712345678", "女", "", "", "", "", "", ""]]
    before = snapshot()
    report = importer.import_file(world.manager, "名单.csv", as_csv(rows))
    db.session.rollback()
    assert not report.written and snapshot() == before
    assert [(line, column) for line, column, _ in problems(report)] == [(3, "姓名")]


def test_valid_rows_only_writes_the_good_ones_and_the_fixed_rejects_import_again(world):
    rows = [HEADER, GOOD[0], ["钱多多", "12345", "女", "", "", "", "", "", ""], GOOD[1]]
    data = as_csv(rows, "gbk")
    report = importer.import_file(world.manager, "名单.csv", data, Mode.VALID_ROWS)
    db.session.commit()
    assert report.written and report.created == 2 and report.rejected_lines == [3]
    assert customer("+8613512345678") and customer("+8613612345678")

    with force_locale("zh_CN"):  # the reason column is headed in the reader's language
        name, content, _ = rejects_file(report, data)
    assert name == "名单-rejects.csv"
    lines = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert lines[0] == [*HEADER, "错误原因"] and len(lines) == 2
    assert lines[1][:2] == ["钱多多", "12345"] and lines[1][-1].startswith("手机: ")

    lines[1][1] = "13712340000"  # fixed
    again = importer.import_file(world.manager, name, as_csv(lines), Mode.ALL_OR_NOTHING)
    db.session.commit()
    assert problems(again) == [] and again.created == 1
    assert customer("+8613712340000").name == "钱多多"


def test_rejects_of_a_workbook_are_a_workbook_with_formulas_neutralised(world):
    rows = [HEADER[:2], ["赵磊", "13512345678"], ["钱芳", "=1+2"]]
    data = as_xlsx(rows)
    report = importer.import_file(world.manager, "名单.xlsx", data, Mode.VALID_ROWS)
    name, content, _ = rejects_file(report, data)
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert name == "名单-rejects.xlsx"
    assert [c.value for c in sheet[2]][:2] == ["钱芳", "'=1+2"] and sheet["B2"].data_type == "s"


def test_policies_one_row_each_with_the_customer_repeated(world):
    rows = [
        ["姓名", "手机", "保单号", "产品名称", "险种", "保费", "缴费方式", "生效日期", "满期日"],
        [
            "赵磊",
            "13512345678",
            "p-1",
            "鑫享两全",
            "年金险",
            "50000",
            "趸交",
            "2021-03-01",
            "2026-03-01",
        ],
        ["", "13512345678", "P-2", "安康重疾", "critical_illness", "3,000", "期交", "2022/1/1", ""],
        ["钱芳", "13612345678", "", "", "", "", "", "", ""],
    ]
    report = importer.import_file(world.manager, "a.csv", as_csv(rows))
    db.session.commit()
    assert problems(report) == [] and (report.created, report.policies_created) == (2, 2)
    zhao = customer("+8613512345678")
    assert sorted(p.policy_number for p in zhao.policies) == ["P-1", "P-2"]
    held = db.session.scalars(sa.select(AuditLog).where(AuditLog.entity == "policy")).all()
    assert {a.customer_id for a in held} == {zhao.id} and len(held) == 2


def test_policy_rows_that_contradict_their_customer_or_repeat_a_number_are_refused(world):
    rows = [
        ["姓名", "手机", "流动资产", "保单号", "产品名称", "险种", "保费", "缴费方式", "生效日期"],
        ["赵磊", "13512345678", "100", "P-1", "鑫享", "年金险", "500", "趸交", "2021-03-01"],
        ["赵磊", "13512345678", "900", "P-2", "安康", "重疾险", "300", "期交", "2022-01-01"],
        ["钱芳", "13612345678", "", "P-1", "鑫享", "年金险", "500", "趸交", "2021-03-01"],
    ]
    report = importer.import_file(world.manager, "a.csv", as_csv(rows), Mode.VALID_ROWS)
    found = problems(report)
    assert (3, "手机") in [(line, column) for line, column, _ in found]
    assert any("流动资产" in reason for line, _, reason in found if line == 3)
    assert any(line == 4 and "line 2" in reason for line, _, reason in found)
    # 赵磊's two rows go together (line 3 is refused), 钱芳's policy number is taken: none left.
    assert report.customers == 0 and not report.written


def test_a_manager_assigns_owners_of_their_branch_only(world):
    rows = [
        ["姓名", "手机", "客户经理"],
        ["赵磊", "13512345678", "bob"],
        ["钱芳", "13612345678", "carol"],
    ]
    report = importer.import_file(world.manager, "a.csv", as_csv(rows), Mode.VALID_ROWS)
    db.session.commit()
    assert customer("+8613512345678").owner == world.bob
    ((line, column, reason),) = problems(report)
    assert (line, column) == (3, "客户经理") and "not one you may assign" in reason
    assert customer("+8613612345678") is None


def test_staff_may_not_import_and_the_system_must_name_owners(world):
    assert not importer.may_import(world.alice)
    assert importer.may_import(world.manager) and importer.may_import(world.admin)
    rows = [
        ["姓名", "手机", "客户经理", "网点"],
        ["赵磊", "13512345678", "carol", "城西支行"],
        ["钱芳", "13612345678", "", ""],
    ]
    report = importer.import_file(None, "a.csv", as_csv(rows), Mode.VALID_ROWS)
    db.session.commit()
    zhao = customer("+8613512345678")
    assert zhao.owner == world.carol and zhao.branch == world.west
    assert [(line, column) for line, column, _ in problems(report)] == [(3, "客户经理")]
    assert (
        db.session.scalar(sa.select(AuditLog.actor_id).where(AuditLog.customer_id == zhao.id))
        is None
    )


def test_someone_recording_a_phone_between_check_and_write_fails_the_whole_import(world):
    checked = check_file(world.manager, "a.csv", as_csv([HEADER, *GOOD]))
    db.session.rollback()
    with db.engine.begin() as conn:  # another worker, committed in between
        conn.execute(
            sa.insert(Customer.__table__).values(
                name="别人", phone="+8613612345678", phone_last4="5678", gender="male",
                liquid_assets=0, willingness=30, risk_level="R1", quadrant="develop",
                owner_id=world.bob.id, branch_id=world.east.id, sms_consent=False, version=1,
            )
        )  # fmt: skip
    before = snapshot()
    with pytest.raises(InvalidInput) as error:
        write_customers(world.manager, checked)
    db.session.rollback()
    with force_locale("en"):
        assert "conflicting change" in str(error.value.errors["file"])
    assert snapshot() == before and customer("+8613512345678") is None


def test_progress_is_reported_while_checking_and_writing(world):
    rows = [HEADER[:2], *[[f"客户{n}", f"1391234{n:04d}"] for n in range(2500)]]
    seen = []
    importer.import_file(world.manager, "a.csv", as_csv(rows), progress=lambda *a: seen.append(a))
    assert ("check", 1000, 2500) in seen and ("check", 2500, 2500) in seen
    assert seen[-1] == ("write", 2500, 2500)
    assert count(Customer) == 3 + 2500
