"""Checking a customer list (导入校验) before anything is written.

Every column is read by its header, Chinese or English (``customer_columns``); every row is
checked by the dossier's own rules (``rows``), against the rows before it (``grouping``) and
against the customers already recorded; the report lists each bad row with its line and
reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import Staff
from crm.services.transfer.customer_columns import BY_FIELD, Layout, layout_of
from crm.services.transfer.grouping import FileCustomer, FileCustomers, reject_whole_customers
from crm.services.transfer.limits import TooLarge, max_bytes, max_rows, too_many_rows_message
from crm.services.transfer.report import Mode, Progress, Report
from crm.services.transfer.rows import RowChecker
from crm.services.transfer.sheet import Sheet, open_sheet


@dataclass
class Checked:
    """A checked file: the report, and the customers it would create."""

    report: Report
    customers: list[FileCustomer]


def check_file(
    user: Staff | None,
    file_name: str,
    data: bytes,
    mode: Mode = Mode.ALL_OR_NOTHING,
    *,
    progress: Progress | None = None,
) -> Checked:
    """Read and check every row; write nothing. File-level trouble raises ``InvalidInput``."""
    if len(data) > max_bytes():
        raise TooLarge()
    report = Report(file_name=file_name, mode=mode)
    with open_sheet(file_name, data) as sheet:
        layout = layout_of(sheet.headers)
        _refuse_unowned(user, layout)
        report.kind, report.encoding = sheet.kind, sheet.encoding
        report.ignored_columns = layout.ignored
        checker = RowChecker(user, layout, texts_checked=sheet.clean_text)
        customers = _check_rows(sheet, checker, report, progress)
    if report.rows == 0:
        raise InvalidInput({"file": _l("The file has column names but no rows.")})
    _against_recorded(customers, report, checker)
    reject_whole_customers(customers, report)
    report.problems.sort(key=lambda p: p.line)
    valid = [c for c in customers if c.bad_line is None]
    report.customers = len(valid)
    report.policies = sum(len(c.policies) for c in valid)
    if progress:
        progress("check", report.rows, report.rows)
    return Checked(report, valid)


def _check_rows(
    sheet: Sheet, checker: RowChecker, report: Report, progress: Progress | None
) -> list[FileCustomer]:
    """Each row checked and grouped with the other rows of its customer; the customers."""
    grouped = FileCustomers(checker.layout)
    limit = max_rows()
    total = sheet.estimate
    for line, cells in sheet.rows:
        report.rows += 1
        if report.rows > limit:
            raise InvalidInput({"file": too_many_rows_message(limit)})
        row = checker.row(line, cells)
        grouped.place(row)
        if row.reasons:
            report.problems.extend(checker.problems(row))
        if progress and report.rows % 1000 == 0:
            progress("check", report.rows, max(total, report.rows))
    return grouped.customers


def _refuse_unowned(user: Staff | None, layout: Layout) -> None:
    """A dossier's owner defaults to the importing user, at their branch: without one, or
    without a branch, the file must name owners (or a branch)."""
    if user is not None and (user.branch_id is not None or "branch" in layout.index):
        return
    if "owner" in layout.index:
        return
    raise InvalidInput(
        {
            "file": _l(
                "Add a column %(owner)s naming each customer's owner: %(why)s",
                owner=BY_FIELD["owner"].header(),
                why=_l("the import runs without a user to default to.")
                if user is None
                else _l("you work at no branch, so the customers cannot default to you."),
            )
        }
    )


def _against_recorded(customers: list[FileCustomer], report: Report, checker: RowChecker) -> None:
    """Customers already in the CRM (same phone) are reported, never created twice."""
    taken = recorded_phones([c.values["phone"] for c in customers])
    for customer in customers:
        if customer.values["phone"] in taken:
            report.problems.append(
                checker.problem(
                    customer.line, "phone", _l("A dossier with this phone number already exists.")
                )
            )
            customer.bad_line = customer.bad_line or customer.line


def recorded_phones(phones: list[str]) -> set[str]:
    """Which of ``phones`` the CRM holds, in one statement: the list goes as one value (a
    PostgreSQL array, a JSON array on SQLite), not as a parameter per phone."""
    if not phones:
        return set()
    if db.session.connection().dialect.name == "postgresql":
        query = "SELECT phone FROM customer WHERE phone = ANY(:phones)"
        return set(db.session.scalars(sa.text(query), {"phones": phones}))
    query = "SELECT phone FROM customer WHERE phone IN (SELECT value FROM json_each(:phones))"
    return set(db.session.scalars(sa.text(query), {"phones": json.dumps(phones)}))
