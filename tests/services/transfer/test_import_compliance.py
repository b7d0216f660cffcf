"""Imported policies follow seed 000's sales compliance as hand-entered ones do: an
investment-type policy (分红, 万能, 投连) needs the dual-recording reference, the returns notice
and the risk acknowledgement; a file without those columns has its investment-type rows
refused, each with the reason, and the others accepted."""

import sqlalchemy as sa

from crm.extensions import db
from crm.models import Policy
from crm.services.transfer import importer
from crm.services.transfer.report import Mode
from tests.services.transfer.import_files import as_csv, customer, problems

OLD_HEADER = [
    "姓名",
    "手机",
    "风险等级",
    "保单号",
    "产品名称",
    "险种",
    "保费",
    "缴费方式",
    "生效日期",
]


def test_an_older_file_without_the_columns_refuses_only_its_investment_rows(world):
    rows = [
        OLD_HEADER,
        ["赵磊", "13512345678", "R3", "P-1", "安康重疾", "重疾险", "3000", "期交", "2024-01-01"],
        ["钱芳", "13612345678", "R3", "P-2", "鑫享两全", "分红险", "50000", "趸交", "2024-01-01"],
        ["孙伟", "13712345678", "R3", "P-3", "稳盈", "万能险", "20000", "趸交", "2024-01-01"],
        ["李娜", "13812345678", "R5", "P-4", "智选", "投资连结险", "80000", "趸交", "2024-01-01"],
    ]
    report = importer.import_file(world.manager, "old.csv", as_csv(rows), Mode.VALID_ROWS)
    db.session.commit()
    refused = {line for line, _, _ in problems(report)}
    assert refused == {3, 4, 5}
    reasons = [reason for line, column, reason in problems(report) if line == 3]
    assert any("dual-recording reference" in r for r in reasons)
    assert any("hypothetical" in r for r in reasons)
    assert any("acknowledgement of the product's risk" in r for r in reasons)
    assert customer("+8613512345678") is not None and customer("+8613612345678") is None
    assert db.session.scalars(sa.select(Policy.policy_number)).all() == ["P-1"]


def test_the_compliance_columns_let_an_investment_policy_in_and_are_stored(world):
    rows = [
        [*OLD_HEADER, "双录编号", "收益演示为假设情景", "已了解产品风险"],
        [
            *("钱芳", "13612345678", "R3", "P-2", "鑫享两全", "分红险", "50000", "趸交"),
            *("2024-01-01", "SL-2024-0001", "是", "是"),
        ],
        [
            *("孙伟", "13712345678", "R3", "P-3", "稳盈", "万能险", "20000", "趸交"),
            *("2024-01-01", "SL-2024-0002", "是", "否"),
        ],
    ]
    report = importer.import_file(world.manager, "new.csv", as_csv(rows), Mode.VALID_ROWS)
    db.session.commit()
    assert [(line, column) for line, column, _ in problems(report)] == [(3, "已了解产品风险")]
    held = db.session.scalars(sa.select(Policy)).one()
    assert (held.policy_number, held.dual_recording_ref) == ("P-2", "SL-2024-0001")
    assert held.returns_notice_shown and held.risk_acknowledged
