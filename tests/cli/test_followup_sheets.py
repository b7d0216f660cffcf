"""``flask crm report callbacks|complaints``: seed 003's sheets written to a file, one branch
or all, and refusals that write nothing."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import openpyxl
import pytest

from crm.extensions import db
from crm.models.enums import CallbackIntent
from tests.services.management.records import complaint, recorded_callback

pytestmark = pytest.mark.backends("sqlite")


@pytest.fixture
def records(world):
    recorded_callback(world.alice_customer, world.alice, date(2026, 5, 3), CallbackIntent.RENEW)
    recorded_callback(world.carol_customer, world.carol, date(2026, 5, 4), CallbackIntent.DEPOSIT)
    complaint(world.carol_customer, datetime(2026, 5, 10, 2, tzinfo=UTC), point="收益低")
    db.session.commit()
    return world


def test_the_call_back_sheet_for_one_branch_as_csv(runner, records, tmp_path, monkeypatch):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    out = tmp_path / "callbacks.csv"
    args = ["crm", "report", "callbacks", "--from", "2026-05-01", "--to", "2026-05-31"]
    result = runner.invoke(args=[*args, "--branch", "城东支行", "--format", "csv", "--out", out])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(out.read_text("utf-8-sig"))))
    assert rows[0][:4] == ["序号", "填写日期", "客户姓名", "保单号"]
    assert [r[2] for r in rows[1:]] == ["张伟"]


def test_the_complaint_sheet_for_every_branch_as_xlsx(runner, records, tmp_path):
    out = tmp_path / "complaints.xlsx"
    args = ["crm", "report", "complaints", "--from", "2026-05-01", "--to", "2026-05-31"]
    result = runner.invoke(args=[*args, "--out", out])
    assert result.exit_code == 0, result.output
    cells = [[c.value for c in row] for row in openpyxl.load_workbook(out).active.iter_rows()]
    assert len(cells) == 2 and "收益低" in cells[1]


@pytest.mark.parametrize(
    "extra",
    [
        ["--from", "2026-06-01", "--to", "2026-05-01"],
        ["--from", "2026-05-01", "--to", "99999-01-01"],
        ["--from", "2026-05-01", "--to", "2026-05-31", "--branch", "无此网点"],
    ],
)
def test_a_bad_request_writes_nothing(runner, records, tmp_path, extra, monkeypatch):
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    out = tmp_path / "refused.xlsx"
    result = runner.invoke(args=["crm", "report", "callbacks", *extra, "--out", out])
    assert result.exit_code == 2 and not out.exists()
    assert "period" in result.output or "YYYY-MM-DD" in result.output or "branch" in result.output
