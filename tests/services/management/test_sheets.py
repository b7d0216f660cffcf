"""Seed 003's two sheets (有效回访统计表, 客户投诉情况统计表): the seed's columns, and rows
that are exactly the period's records of the reader's customers."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import openpyxl
import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from crm.core.access import customer_scope
from crm.extensions import db
from crm.models import Complaint, Customer, MaturityCallback
from crm.models.enums import CallbackIntent
from crm.services.management import sheets
from tests.services.management.records import complaint, recorded_callback

pytestmark = pytest.mark.backends("sqlite", "postgresql")

MAY = (date(2026, 5, 1), date(2026, 5, 31))


@pytest.fixture
def records(world):
    recorded_callback(
        world.alice_customer,
        world.alice,
        date(2026, 5, 3),
        CallbackIntent.NEW_POLICY,
        maturity_note="满期金5万元",
        conversion_note="转投终身寿险",
        remarks="=1+1",
    )
    recorded_callback(world.bob_customer, world.bob, date(2026, 5, 20), CallbackIntent.DEPOSIT)
    recorded_callback(world.bob_customer, world.bob, date(2026, 6, 2), CallbackIntent.RENEW)
    recorded_callback(world.carol_customer, world.carol, date(2026, 5, 9), CallbackIntent.RENEW)
    complaint(
        world.alice_customer,
        datetime(2026, 5, 4, 2, tzinfo=UTC),
        datetime(2026, 5, 6, 2, tzinfo=UTC),
        world.alice,
        handling_opinion="补偿部分收益差额",
        non_routine_surrender=False,
        satisfied=True,
    )
    complaint(world.bob_customer, datetime(2026, 4, 30, 2, tzinfo=UTC))
    complaint(world.carol_customer, datetime(2026, 5, 10, 2, tzinfo=UTC))
    db.session.commit()
    return world


def test_the_call_back_sheet_has_the_seed_s_columns_and_the_period_s_calls(records):
    with force_locale("zh_CN"):
        sheet = sheets.sheet("callbacks", customer_scope(records.manager), *MAY)
    assert sheet.headers[:1] + sheet.headers[2:5] == ["序号", "客户姓名", "保单号", "所持险种"]
    for column in ("填写日期", "满期说明", "转保说明", "客户意向", "备注"):
        assert column in sheet.headers
    # The manager's branch (城东: alice's and bob's customers), May only.
    direct = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(MaturityCallback)
        .join(Customer, Customer.id == MaturityCallback.customer_id)
        .where(
            Customer.branch_id == records.east.id,
            MaturityCallback.recorded_on.between(*MAY),
        )
    )
    assert len(sheet.rows) == direct == 2
    first = dict(zip(sheet.headers, sheet.rows[0], strict=True))
    assert first["序号"] == 1 and first["客户姓名"] == "张伟"
    assert first["满期说明"] == "满期金5万元" and first["转保说明"] == "转投终身寿险"
    assert first["客户意向"] == "转保单" and first["所持险种"].endswith("（分红险）")


def test_the_complaint_sheet_lists_the_period_s_complaints_with_their_handling(records):
    with force_locale("zh_CN"):
        sheet = sheets.sheet("complaints", sa.true(), *MAY)
    for column in ("序号", "投诉点", "处理意见", "是否非常规退保"):
        assert column in sheet.headers
    direct = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Complaint)
        .where(
            Complaint.opened_at >= datetime(2026, 4, 30, 16, tzinfo=UTC),
            Complaint.opened_at < datetime(2026, 5, 31, 16, tzinfo=UTC),
        )
    )
    assert len(sheet.rows) == direct == 2
    first = dict(zip(sheet.headers, sheet.rows[0], strict=True))
    assert first["处理意见"] == "补偿部分收益差额" and first["是否非常规退保"] == "否"
    assert first["是否满意"] == "是"


def test_both_files_open_with_the_same_rows_and_no_formula(records):
    with force_locale("zh_CN"):
        sheet = sheets.sheet("callbacks", sa.true(), *MAY)
    text = sheet.content("csv").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == sheet.headers and len(rows) == len(sheet.rows) + 1 == 4
    book = openpyxl.load_workbook(io.BytesIO(sheet.content("xlsx")))
    cells = [[c.value for c in row] for row in book.active.iter_rows()]
    assert cells[0] == sheet.headers and len(cells) == 4
    remarks = sheet.headers.index("备注")
    assert not str(cells[1][remarks]).startswith("=")
