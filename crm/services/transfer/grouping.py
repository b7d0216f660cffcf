"""The rows of a customer list grouped into customers: one per phone number, with one row per
policy, and a customer imported with all its rows or not at all."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l

from crm.core import audit
from crm.services.transfer.customer_columns import IGNORED, POLICY_FIELDS, Layout
from crm.services.transfer.report import Problem, Report
from crm.services.transfer.rows import CheckedRow


@dataclass(slots=True)
class FileCustomer:
    """One customer of the file: its first line, checked values, and its policies."""

    line: int
    values: dict[str, Any]
    lines: list[int]
    policies: list[dict[str, Any]] = field(default_factory=list)
    bad_line: int | None = None
    id: int | None = None  # given when written

    def add(self, row: CheckedRow) -> None:
        self.lines.append(row.line)
        if row.reasons:
            self.bad_line = self.bad_line or row.line
        elif row.policy is not None:
            self.policies.append(row.policy)


class FileCustomers:
    """The customers of one file, in the order of their first rows."""

    def __init__(self, layout: Layout):
        self.layout = layout
        self.customers: list[FileCustomer] = []
        self.by_phone: dict[str, FileCustomer] = {}
        self.by_number: dict[str, int] = {}  # policy number -> its line

    def place(self, row: CheckedRow) -> None:
        """Group a row with the earlier rows of its customer (same phone), and its policy."""
        first = self.by_phone.get(row.phone) if row.phone else None
        if first is not None:
            # A customer's later rows may leave its columns blank: they are the first row's.
            row.reasons = {
                f: r for f, r in row.reasons.items() if f in row.filled or f in POLICY_FIELDS
            }
        self._note_policy_number(row)
        if row.phone is None:
            return
        if first is None:
            first = self.by_phone[row.phone] = FileCustomer(row.line, row.values, [])
            self.customers.append(first)
        else:
            self._check_same_customer(first, row)
        first.add(row)

    def _note_policy_number(self, row: CheckedRow) -> None:
        """A policy number is listed once in a file."""
        if row.policy is None or row.reasons:
            return
        number = row.policy["policy_number"]
        if number in self.by_number:
            row.reasons["policy_number"] = _l(
                "This policy number is already on line %(line)d.", line=self.by_number[number]
            )
        else:
            self.by_number[number] = row.line

    def _check_same_customer(self, first: FileCustomer, row: CheckedRow) -> None:
        """A later row of a customer adds a policy, and says nothing else about them."""
        if row.policy is None and "policy_number" not in row.filled:
            row.reasons["phone"] = _l(
                "Same phone number as line %(line)d: list a customer once, or once per policy.",
                line=first.line,
            )
        elif differ := self._differences(first, row):
            row.reasons["phone"] = _l(
                "Same phone number as line %(line)d, but a different %(columns)s.",
                line=first.line,
                columns=", ".join(differ),
            )

    def _differences(self, first: FileCustomer, row: CheckedRow) -> list[str]:
        """The columns a later row of the same customer fills differently from its first row."""
        layout = self.layout
        keys = {"owner": "owner_id", "branch": "branch_id"}
        return [
            layout.header(f)
            for f in sorted(row.filled, key=layout.index.__getitem__)
            if f not in POLICY_FIELDS
            and f not in IGNORED
            and audit.as_text(first.values.get(keys.get(f, f)))
            != audit.as_text(row.values.get(keys.get(f, f)))
        ]


def reject_whole_customers(customers: list[FileCustomer], report: Report) -> None:
    """A customer is imported with all its rows or not at all, so that the rejects file
    holds every row of it, ready to upload again once fixed."""
    with_problems = {p.line for p in report.problems}
    for customer in customers:
        if customer.bad_line is None:
            continue
        bad = min(line for line in customer.lines if line in with_problems)
        for line in customer.lines:
            if line not in with_problems:
                report.problems.append(
                    Problem(
                        line,
                        "",
                        _l(
                            "Not imported: line %(line)d of the same customer is refused.", line=bad
                        ),
                    )
                )
