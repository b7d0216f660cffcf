"""Seed 003's two tracking sheets as files (追踪工具, 附件一 and 附件二):

- 有效回访统计表 (call-back sheet): the call-backs recorded in a period, with the seed's columns
  客户姓名, 保单号, 所持险种, 满期说明, 转保说明, 客户意向, 备注, numbered (序号) and dated
  (填写日期), with the maturity date and who called beside them;
- 客户投诉情况统计表 (complaint sheet): the complaints opened in a period, with 投诉点, 处理意见
  and 是否非常规退保, the customer, when opened and answered, and whether it ended satisfied.

Both come as XLSX or CSV from the follow-up page and from ``flask crm report callbacks|
complaints``; headers and labels are in the reader's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import aliased

from crm.core.clock import business_zone
from crm.extensions import db
from crm.labels import CALLBACK_INTENT, PRODUCT_TYPE
from crm.models import Complaint, Customer, MaturityCallback, Policy, Staff
from crm.services.management.period import after_day, day_begins
from crm.services.transfer import spreadsheets

KINDS = ("callbacks", "complaints")
FORMATS = ("xlsx", "csv")

CALLBACK_HEADERS = (
    _l("No."),
    _l("Date recorded"),
    _l("Customer name"),
    _l("Policy number"),
    _l("Product held"),
    _l("Maturity date"),
    _l("Maturity note"),
    _l("Conversion note"),
    _l("Customer intent"),
    _l("Remarks"),
    _l("Called by"),
)
COMPLAINT_HEADERS = (
    _l("No."),
    _l("Opened on"),
    _l("Customer name"),
    _l("Complaint point"),
    _l("Handling opinion"),
    _l("Non-routine surrender?"),
    _l("Answered on"),
    _l("Satisfied?"),
    _l("Owner"),
)
TITLES = {"callbacks": _l("Call-back sheet"), "complaints": _l("Complaint sheet")}


@dataclass
class Sheet:
    kind: str
    start: date
    end: date
    headers: list[str]
    rows: list[list[Any]]

    def file_name(self, format: str) -> str:
        return f"{self.kind}-{self.start.isoformat()}-{self.end.isoformat()}.{format}"

    def content(self, format: str) -> bytes:
        if format == "csv":
            return spreadsheets.csv_bytes(self.headers, self.rows)
        return spreadsheets.xlsx_bytes(self.headers, self.rows)

    @staticmethod
    def mimetype(format: str) -> str:
        return spreadsheets.CSV_MIME if format == "csv" else spreadsheets.XLSX_MIME


def _yes_no(value: bool | None) -> str:
    if value is None:
        return ""
    return str(_l("Yes")) if value else str(_l("No"))


def _label(table, value) -> str:
    return "" if value is None else str(table.get(value, value))


def callback_sheet(scope: sa.ColumnElement[bool], start: date, end: date) -> Sheet:
    """The call-backs recorded from ``start`` to ``end`` (days, inclusive) for the customers
    of ``scope``, in the order they were recorded."""
    caller = aliased(Staff)
    found = db.session.execute(
        sa.select(
            MaturityCallback.recorded_on,
            Customer.name,
            Policy.policy_number,
            Policy.product_name,
            Policy.product_type,
            MaturityCallback.maturity_date,
            MaturityCallback.maturity_note,
            MaturityCallback.conversion_note,
            MaturityCallback.intent,
            MaturityCallback.remarks,
            caller.display_name,
        )
        .join(Customer, Customer.id == MaturityCallback.customer_id)
        .join(Policy, Policy.id == MaturityCallback.policy_id)
        .outerjoin(caller, caller.id == MaturityCallback.recorded_by_id)
        .where(scope, MaturityCallback.recorded_on.between(start, end))
        .order_by(MaturityCallback.recorded_at, MaturityCallback.id)
    )
    rows = [
        [
            n,
            on,
            name,
            number,
            str(_l("%(product)s (%(kind)s)", product=product, kind=_label(PRODUCT_TYPE, kind))),
            maturity,
            maturity_note or "",
            conversion_note or "",
            _label(CALLBACK_INTENT, intent),
            remarks or "",
            who or "",
        ]
        for n, (
            on,
            name,
            number,
            product,
            kind,
            maturity,
            maturity_note,
            conversion_note,
            intent,
            remarks,
            who,
        ) in enumerate(found, 1)
    ]
    return Sheet("callbacks", start, end, [str(h) for h in CALLBACK_HEADERS], rows)


def complaint_sheet(scope: sa.ColumnElement[bool], start: date, end: date) -> Sheet:
    """The complaints opened from ``start`` to ``end`` for the customers of ``scope``, oldest
    first."""
    zone = business_zone()
    owner = aliased(Staff)
    found = db.session.execute(
        sa.select(
            Complaint.opened_at,
            Customer.name,
            Complaint.point,
            Complaint.handling_opinion,
            Complaint.non_routine_surrender,
            Complaint.answered_at,
            Complaint.satisfied,
            owner.display_name,
        )
        .join(Customer, Customer.id == Complaint.customer_id)
        .join(owner, owner.id == Customer.owner_id)
        .where(
            scope,
            Complaint.opened_at >= day_begins(start, zone),
            Complaint.opened_at < after_day(end, zone),
        )
        .order_by(Complaint.opened_at, Complaint.id)
    )
    rows = [
        [
            n,
            opened.astimezone(zone).date(),
            name,
            point,
            opinion or "",
            _yes_no(surrender),
            answered.astimezone(zone).date() if answered else "",
            _yes_no(satisfied),
            who,
        ]
        for n, (opened, name, point, opinion, surrender, answered, satisfied, who) in enumerate(
            found, 1
        )
    ]
    return Sheet("complaints", start, end, [str(h) for h in COMPLAINT_HEADERS], rows)


def sheet(kind: str, scope: sa.ColumnElement[bool], start: date, end: date) -> Sheet:
    """One of the two sheets by its name in ``KINDS``."""
    make = callback_sheet if kind == "callbacks" else complaint_sheet
    return make(scope, start, end)
