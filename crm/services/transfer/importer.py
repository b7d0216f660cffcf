"""Customer import (客户导入): the spreadsheets banks hand over, as CSV or XLSX.

Check first, then write. Every column is read by its header, Chinese or English
(``COLUMNS``); every row is checked by the dossier's own rules (``dossier.check``,
``policies.clean_policy``), against the rows before it and against the customers
already recorded; the report lists each bad row with its line and reason. Then, in one
transaction, either everything is written or nothing (the default), or, if the user
chose so, only the valid rows, the others going to a rejects file in the uploaded
format with a reason column, to be fixed and uploaded again.

Writes are set-based: the customers in one bulk insert, their first quadrant events in
INSERT … SELECT (``tiering.insert_events``, cause import), then tags, policies, one audit
row per created dossier and policy (INSERT … SELECT, attributed to the importing user) and
one for the import itself.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from crm import labels
from crm.core import audit, bulk
from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import AuditLog, Branch, Customer, Policy, QuadrantEvent, Staff, Tag, customer_tag
from crm.models.base import utcnow
from crm.models.enums import Channel, Gender, MoveCause, PaymentMode, ProductType, RiskLevel, Role
from crm.services.customers import dossier, policies, tiering
from crm.services.transfer import spreadsheets
from crm.services.transfer.customer_columns import (
    BY_FIELD,
    IGNORED,
    POLICY_FIELDS,
    Layout,
    header_key,
    header_table,
    layout_of,
)

# A bank's list for one branch runs to tens of thousands; past this, split the file.
DEFAULT_MAX_ROWS = 100_000
# Enough for 100,000 rows of CSV with every column filled.
DEFAULT_MAX_BYTES = 32 * 1024 * 1024
CHUNK = 5_000  # tag names per IN (…); well under every driver's limit of parameters

# The dossier rules name owner and branch by id; the file names them by their columns.
CHECK_FIELD = {"owner_id": "owner", "branch_id": "branch", "product_id": "product_name"}

Progress = Callable[[str, int, int], None]  # (stage "check" or "write", done, total)


class Mode(StrEnum):
    ALL_OR_NOTHING = "all"
    VALID_ROWS = "valid"


def may_import(user: Staff | None) -> bool:
    """Managers and admins import (None: the command line acting as the system)."""
    return user is None or user.role in (Role.MANAGER, Role.ADMIN)


def max_rows() -> int:
    return int(current_app.config.get("CRM_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS))


def max_bytes() -> int:
    return int(current_app.config.get("CRM_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


# --- reading files ---------------------------------------------------------------------


@dataclass
class Sheet:
    """The rows of an uploaded file as text: (line, cells) with line as the spreadsheet
    numbers it (the header row is usually line 1); blank rows are left out."""

    kind: str  # "csv" or "xlsx"
    encoding: str | None
    header_line: int
    headers: list[str]
    rows: Iterator[tuple[int, list[str]]]
    estimate: int  # how many rows to expect, for progress
    # No control characters anywhere in the file (known for CSV, scanned whole at once).
    clean_text: bool = False


@contextlib.contextmanager
def open_sheet(name: str, data: bytes) -> Iterator[Sheet]:
    """Read an upload (CSV in UTF-8 or GBK, or XLSX's first sheet) up to its header row;
    the rows follow lazily. Files that cannot be read raise ``InvalidInput`` for "file"."""
    with spreadsheets.read(name, data) as upload:
        numbered = ((line, cells) for line, cells in enumerate(upload.rows, start=1))
        header_line, headers = _find_header(numbered)
        rows = ((line, cells) for line, cells in numbered if not spreadsheets.is_blank(cells))
        yield Sheet(
            upload.kind,
            upload.encoding,
            header_line,
            headers,
            rows,
            max(upload.estimate - header_line, 0),
            upload.clean_text,
        )


def _find_header(numbered: Iterator[tuple[int, list[str]]]) -> tuple[int, list[str]]:
    """The header row: the first within ten rows that names two known columns (banks put a
    title above it), else the first that is not blank."""
    table = header_table()
    seen: list[tuple[int, list[str]]] = []
    for line, cells in numbered:
        if spreadsheets.is_blank(cells):
            continue
        if sum(header_key(c) in table for c in cells if c.strip()) >= 2:
            return line, cells
        seen.append((line, cells))
        if len(seen) == 10:
            break
    if not seen:
        raise InvalidInput({"file": _l("The file is empty.")})
    return seen[0]


# --- values ------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"[-—－]+")  # "-" for "none", as Chinese spreadsheets write it
_SPECIAL_STARTS = frozenset("=+-@'—－")  # cells that need a second look


def _norm(text: str) -> str:
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", text)).lower()


def _enum_table(enum, names: dict) -> dict[str, Any]:
    """Each member by its code and by its label in Chinese and in English."""
    table = {_norm(m.value): m for m in enum}
    for locale in ("zh_CN", "en"):
        with force_locale(locale):
            for member, text in names.items():
                label = str(text)
                table.setdefault(_norm(label), member)
                # "R3 平衡型": the level alone ("平衡型") names it too.
                code, _, rest = label.partition(" ")
                if rest and _norm(code) == _norm(member.value):
                    table.setdefault(_norm(rest), member)
    return table


ENUMS = {
    "gender": (Gender, labels.GENDER),
    "risk_level": (RiskLevel, labels.RISK_LEVEL),
    "channel": (Channel, labels.CHANNEL),
    "product_type": (ProductType, labels.PRODUCT_TYPE),
    "payment_mode": (PaymentMode, labels.PAYMENT_MODE),
}
YES = {"是", "y", "yes", "true", "1", "同意", "已同意", "√", "✓", "✔"}
NO = {"否", "n", "no", "false", "0", "不同意", "未同意", "×", "✗"}
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_WHOLE = re.compile(r"[+-]?\d+(?:\.0*)?")
# What an empty cell means: the dossier form's defaults.
DEFAULTS = {"gender": Gender.UNSPECIFIED.value, "risk_level": RiskLevel.R1.value}


def parse_date(text: str) -> date | None:
    match = _DATE.fullmatch(text) or _COMPACT_DATE.fullmatch(text)
    if not match:
        return None
    try:
        return date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


def _amount(text: str) -> str:
    return text.replace(",", "").replace("，", "").lstrip("¥￥").removesuffix("元").strip()


# --- checking ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One reason a row (or the file) cannot be imported."""

    line: int
    column: str  # the header as the file has it ("" for the whole row)
    message: Any  # a lazy string: rendered in the reader's language


@dataclass(slots=True)
class _Customer:
    """One customer of the file: its first line, checked values, and its policies."""

    line: int
    values: dict[str, Any]
    lines: list[int]
    policies: list[dict[str, Any]] = field(default_factory=list)
    bad_line: int | None = None
    id: int | None = None  # given when written


@dataclass
class Report:
    """What a check (and an import) found and did."""

    file_name: str
    mode: Mode
    kind: str = "csv"
    encoding: str | None = None  # of a CSV: "utf-8" or "gbk"
    rows: int = 0
    customers: int = 0  # dossiers the file creates (valid ones)
    policies: int = 0
    problems: list[Problem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    written: bool = False
    created: int = 0
    policies_created: int = 0

    @property
    def rejected_lines(self) -> list[int]:
        return sorted({p.line for p in self.problems})

    @property
    def can_import(self) -> bool:
        """Whether the chosen mode lets this file be written."""
        if self.customers == 0:
            return False
        return self.mode == Mode.VALID_ROWS or not self.problems

    def reasons(self) -> dict[int, str]:
        """Per rejected line, its reasons in one text (the rejects file's reason column)."""
        out: dict[int, list[str]] = {}
        for p in self.problems:
            text = f"{p.column}: {p.message}" if p.column else str(p.message)
            out.setdefault(p.line, []).append(text)
        return {line: "; ".join(texts) for line, texts in out.items()}


@dataclass(slots=True)
class _Row:
    line: int
    values: dict[str, Any]  # as dossier.check normalised them
    phone: str | None  # when valid
    policy: dict[str, Any] | None  # when the row holds a valid one
    filled: set[str]  # the fields whose cells are not blank
    reasons: dict[str, Any]  # field -> why it cannot be imported


class _Checker:
    """Reads each row into dossier data and checks it with the dossier's rules, the
    lists (staff, branches, what the user may assign) read once for the whole file."""

    def __init__(self, user: Staff | None, layout: Layout, *, texts_checked: bool = False):
        self.user = user
        self.layout = layout
        if user is None:  # the command line without --as: the system, like an admin
            active = sa.select(Staff).where(Staff.is_active_account.is_(True))
            batch = dossier.Batch.of(
                db.session.scalars(active).all(), db.session.scalars(sa.select(Branch)).all()
            )
        else:
            batch = dossier.Batch.for_user(user)
        self.batch = dataclasses.replace(batch, texts_checked=texts_checked)
        staff = db.session.execute(sa.select(Staff.id, Staff.username, Staff.display_name)).all()
        display: dict[str, list[int]] = {}
        for s in staff:
            display.setdefault(_norm(s.display_name), []).append(s.id)
        # An owner is named by username, or by display name when only one person has it.
        self.staff = {k: ids[0] for k, ids in display.items() if len(ids) == 1}
        self.staff.update({_norm(s.username): s.id for s in staff})
        self.branches = {
            _norm(name): id_ for id_, name in db.session.execute(sa.select(Branch.id, Branch.name))
        }
        self.enums = {f: _enum_table(*ENUMS[f]) for f in ENUMS if f in layout.index}
        self.cells = [(f, i) for f, i in layout.index.items() if f not in IGNORED]
        self.order = {
            f: i for i, (f, _) in enumerate(sorted(layout.index.items(), key=lambda x: x[1]))
        }
        # The same few texts ("男", "R3", a manager's name, a date) recur: read them once.
        self.seen: dict[tuple[str, str], Any] = {}

    def problem(self, line: int, field_name: str | None, message: Any) -> Problem:
        return Problem(line, self.layout.header(CHECK_FIELD.get(field_name, field_name)), message)

    def row(self, line: int, cells: list[str]) -> _Row:
        """Read a row and check it by the dossier's and the policy's rules."""
        texts: dict[str, str] = {}
        formulas: dict[str, str] = {}
        width = len(cells)
        for field_name, position in self.cells:
            text = cells[position].strip() if position < width else ""
            if text and text[0] in _SPECIAL_STARTS:
                if _PLACEHOLDER.fullmatch(text):
                    continue
                if spreadsheets.is_formula(text):
                    formulas[field_name] = text[0]
                    continue
                text = spreadsheets.unescape(text)
            if text:
                texts[field_name] = text
        data, unreadable = self._dossier_data(texts)
        values, errors = dossier.check(self.user, data, batch=self.batch)
        phone = values["phone"] if "phone" not in errors and "phone" not in formulas else None
        policy = None
        if any(f in texts for f in POLICY_FIELDS):
            policy_data = self._policy_data(texts, unreadable)
            try:
                policy = policies.clean_policy(policy_data)
            except InvalidInput as error:
                errors = {**errors, **error.errors}
        # One reason per column: a formula, else what could not be read, else the rule broken.
        reasons = {CHECK_FIELD.get(k, k): v for k, v in errors.items()} | unreadable
        if "owner" in reasons and "branch" not in texts:
            reasons.pop("branch", None)  # the branch follows the owner, who is the problem
        for field_name, start in formulas.items():
            reasons[field_name] = _l(
                "Formulas are not accepted (the cell starts with “%(start)s”). "
                "Enter the value itself.",
                start=start,
            )
        return _Row(line, values, phone, policy, set(texts), reasons)

    def problems(self, row: _Row) -> list[Problem]:
        """The row's reasons, in the order of the file's columns."""
        keys = sorted(row.reasons, key=lambda k: self.order.get(k, len(self.order)))
        return [self.problem(row.line, key, row.reasons[key]) for key in keys]

    def _dossier_data(self, texts: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
        """The row as the dossier form would submit it, and what could not be read."""
        get = texts.get
        data: dict[str, Any] = {
            "name": get("name", ""),
            "phone": get("phone", ""),
            "email": get("email", ""),
            "occupation": get("occupation", ""),
            "tags": get("tags", ""),
            "family_notes": get("family_notes", ""),
            "interests_notes": get("interests_notes", ""),
            "notes": get("notes", ""),
        }
        errors: dict[str, Any] = {}
        for name in ("gender", "risk_level", "channel"):
            data[name] = self._enum(name, get(name), errors) or DEFAULTS.get(name, "")
        for name in ("birth_date", "assets_as_of"):
            data[name] = self._date(name, get(name), errors)
        assets = get("liquid_assets")
        data["liquid_assets"] = 0 if assets is None else _amount(assets)
        will = get("willingness")
        if will is None:
            data["willingness"] = 30  # the dossier form's default
        else:
            data["willingness"] = int(float(will)) if _WHOLE.fullmatch(will) else will
        data["sms_consent"] = self._yes_no(get("sms_consent"), errors)
        data["owner_id"] = self._owner(get("owner"), errors)
        branch = get("branch")
        if branch is not None:
            data["branch_id"] = self.branches.get(_norm(branch), 0)
            if not data["branch_id"]:
                errors["branch"] = _l("There is no branch named “%(name)s”.", name=branch)
        return data, errors

    def _yes_no(self, text: str | None, errors: dict[str, Any]) -> bool:
        if text is None:
            return False
        key = ("yes_no", text)
        if key not in self.seen:
            word = _norm(text)
            self.seen[key] = True if word in YES else False if word in NO else None
        if self.seen[key] is None:
            errors["sms_consent"] = _l("Enter yes or no (是 or 否).")
        return bool(self.seen[key])

    def _owner(self, text: str | None, errors: dict[str, Any]) -> int | None:
        if text is None:
            if self.user is None:
                errors["owner"] = _l(
                    "Name the owner: an import run without a user has no one to default to."
                )
                return 0
            return None  # the importing user, as the dossier form defaults
        key = ("owner", text)
        if key not in self.seen:
            self.seen[key] = self.staff.get(_norm(text))
        found = self.seen[key]
        if found is None:
            errors["owner"] = _l("There is no staff member “%(name)s”.", name=text)
            return 0
        return found

    def _enum(self, name: str, text: str | None, errors: dict[str, Any]) -> str | None:
        if text is None:
            return None
        key = (name, text)
        if key not in self.seen:
            self.seen[key] = self.enums[name].get(_norm(text))
        member = self.seen[key]
        if member is None:
            enum, names = ENUMS[name]
            errors[name] = _l(
                "“%(value)s” is not one of: %(choices)s.",
                value=text,
                choices=", ".join(str(names[m]) for m in enum),
            )
            return None
        return member.value

    def _date(self, name: str, text: str | None, errors: dict[str, Any]) -> date | None:
        if text is None:
            return None
        key = ("date", text)
        if key not in self.seen:
            self.seen[key] = parse_date(text)
        parsed = self.seen[key]
        if parsed is None:
            errors[name] = _l("Enter a date such as 1980-05-31.")
        return parsed

    def _policy_data(self, texts: dict[str, str], errors: dict[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = {
            "policy_number": texts.get("policy_number", ""),
            "product_name": texts.get("product_name", ""),
            "premium": _amount(texts["premium"]) if "premium" in texts else None,
        }
        for name in ("product_type", "payment_mode"):
            data[name] = self._enum(name, texts.get(name), errors) or ""
        for name in ("start_date", "maturity_date"):
            data[name] = self._date(name, texts.get(name), errors)
        return data


def _compare(first: _Customer, row: _Row, layout: Layout) -> list[str]:
    """The columns a later row of the same customer fills differently from its first row."""
    keys = {"owner": "owner_id", "branch": "branch_id"}
    return [
        layout.header(f)
        for f in sorted(row.filled, key=layout.index.__getitem__)
        if f not in POLICY_FIELDS
        and f not in IGNORED
        and audit.as_text(first.values.get(keys.get(f, f)))
        != audit.as_text(row.values.get(keys.get(f, f)))
    ]


@dataclass
class Checked:
    """A checked file: the report, and the customers it would create."""

    report: Report
    customers: list[_Customer]


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
        raise InvalidInput({"file": too_large_message()})
    report = Report(file_name=file_name, mode=mode)
    by_phone: dict[str, _Customer] = {}
    by_number: dict[str, int] = {}
    customers: list[_Customer] = []
    limit = max_rows()
    with open_sheet(file_name, data) as sheet:
        layout = layout_of(sheet.headers)
        _refuse_unowned(user, layout)
        report.kind, report.encoding = sheet.kind, sheet.encoding
        report.ignored_columns = layout.ignored
        checker = _Checker(user, layout, texts_checked=sheet.clean_text)
        total = sheet.estimate
        for line, cells in sheet.rows:
            report.rows += 1
            if report.rows > limit:
                raise InvalidInput(
                    {
                        "file": _l(
                            "The file has more than %(n)s rows; split it and import the parts "
                            "one after the other.",
                            n=f"{limit:,}",
                        )
                    }
                )
            row = checker.row(line, cells)
            _place(row, by_phone, by_number, customers, layout)
            if row.reasons:
                report.problems.extend(checker.problems(row))
            if progress and report.rows % 1000 == 0:
                progress("check", report.rows, max(total, report.rows))
    if report.rows == 0:
        raise InvalidInput({"file": _l("The file has column names but no rows.")})
    _against_recorded(customers, report, checker)
    _reject_whole_customers(customers, report)
    report.problems.sort(key=lambda p: p.line)
    valid = [c for c in customers if c.bad_line is None]
    report.customers = len(valid)
    report.policies = sum(len(c.policies) for c in valid)
    if progress:
        progress("check", report.rows, report.rows)
    return Checked(report, valid)


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


def _place(
    row: _Row, by_phone: dict, by_number: dict, customers: list[_Customer], layout: Layout
) -> None:
    """Group a row with the earlier rows of its customer (same phone), and its policy."""
    first = by_phone.get(row.phone) if row.phone else None
    if first is not None:
        # A customer's later rows may leave its columns blank: they are the first row's.
        row.reasons = {
            f: r for f, r in row.reasons.items() if f in row.filled or f in POLICY_FIELDS
        }
    policy = row.policy if not row.reasons else None
    if policy is not None:
        number = policy["policy_number"]
        if number in by_number:
            row.reasons["policy_number"] = _l(
                "This policy number is already on line %(line)d.", line=by_number[number]
            )
        else:
            by_number[number] = row.line
    if row.phone is None:
        return
    if first is None:
        first = by_phone[row.phone] = _Customer(row.line, row.values, [])
        customers.append(first)
    elif row.policy is None and "policy_number" not in row.filled:
        row.reasons["phone"] = _l(
            "Same phone number as line %(line)d: list a customer once, or once per policy.",
            line=first.line,
        )
    elif differ := _compare(first, row, layout):
        row.reasons["phone"] = _l(
            "Same phone number as line %(line)d, but a different %(columns)s.",
            line=first.line,
            columns=", ".join(differ),
        )
    first.lines.append(row.line)
    if row.reasons:
        first.bad_line = first.bad_line or row.line
    elif row.policy is not None:
        first.policies.append(row.policy)


def _against_recorded(customers: list[_Customer], report: Report, checker: _Checker) -> None:
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


def _reject_whole_customers(customers: list[_Customer], report: Report) -> None:
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


# --- writing -----------------------------------------------------------------------------


def import_file(
    user: Staff | None,
    file_name: str,
    data: bytes,
    mode: Mode = Mode.ALL_OR_NOTHING,
    *,
    progress: Progress | None = None,
) -> Report:
    """Check the file, then write what the mode allows in the session's transaction; the
    caller commits. Nothing is written when the mode refuses (``report.written`` False)."""
    checked = check_file(user, file_name, data, mode, progress=progress)
    report = checked.report
    if report.can_import:
        write(user, checked, progress=progress)
    return report


def write(user: Staff | None, checked: Checked, *, progress: Progress | None = None) -> None:
    """Create the checked customers, set-based; the caller commits. A customer recorded by
    someone else since the check (same phone) makes it all fail with ``InvalidInput``."""
    report, customers = checked.report, checked.customers
    at = utcnow()
    actor_id = user.id if user else None
    thresholds = tiering.current_thresholds()
    total = len(customers)
    reason = f"import: {report.file_name}"[:500]
    dbapi_integrity = db.session.connection().dialect.dbapi.IntegrityError
    try:
        # The import's own row first: on SQLite this first write takes the write lock, so
        # the ids chosen next stay free until the commit.
        audit.record(
            user,
            "import",
            0,
            "import",
            reason=(
                f"{report.file_name} ({report.mode.value}): {report.rows} rows, {total} "
                f"customers and {report.policies} policies created, "
                f"{len(report.rejected_lines)} rows rejected"
            )[:500],
        )
        db.session.flush()
        for customer, id_ in zip(customers, bulk.new_ids(Customer.__table__, total), strict=True):
            customer.id = id_
        bulk.insert(
            Customer.__table__, _CUSTOMER_COLUMNS, _customer_rows(customers, at, thresholds)
        )
        if progress:
            progress("write", total // 2, total)
        for low, high in bulk.id_ranges(sorted(c.id for c in customers)):
            mine = Customer.id.between(low, high)
            tiering.insert_events(
                mine,
                source=None,
                target=Customer.quadrant,
                thresholds=thresholds,
                cause=MoveCause.IMPORT,
                actor_id=actor_id,
                at=sa.literal(at, QuadrantEvent.at.type),
            )
            _audit_created(Customer, Customer.id, mine, actor_id, at, reason)
        _write_tags(customers)
        policy_count = _write_policies(customers, at, actor_id, reason)
        if progress:
            progress("write", total, total)
    except (sa.exc.IntegrityError, dbapi_integrity):
        db.session.rollback()
        raise InvalidInput(
            {
                "file": _l(
                    "Someone saved a conflicting change (a customer with one of these phone "
                    "numbers, or one of these policies) while the file was imported. Nothing "
                    "was imported; check the file again."
                )
            }
        ) from None
    report.written = True
    report.created = total
    report.policies_created = policy_count


# The customer table's columns an import fills: what ``dossier.check`` returns that the
# table stores as it is, then what the import adds.
_CUSTOMER_VALUES = tuple(
    f for f in dossier.DOSSIER_FIELDS if f != "tags" and f in Customer.__table__.c
)
_CUSTOMER_COLUMNS = [
    "id",
    *_CUSTOMER_VALUES,
    "phone_last4",
    "quadrant",
    "sms_consent_at",
    "version",
    "created_at",
    "updated_at",
]


def _customer_rows(customers: list[_Customer], at: datetime, thresholds) -> Iterator[tuple]:
    for customer in customers:
        values = customer.values
        yield (
            customer.id,
            *[values[k] for k in _CUSTOMER_VALUES],
            # The national number ends the E.164 form, so its last four digits are these.
            values["phone"][-4:],
            tiering.quadrant_for(values["liquid_assets"], values["willingness"], thresholds),
            at if values["sms_consent"] else None,
            1,
            at,
            at,
        )


def _audit_created(model, id_column, where, actor_id: int | None, at: datetime, reason: str):
    """One audit row per created dossier or policy, in one INSERT … SELECT: "created by
    the importing user, from this file" (the values are the dossier's first version)."""
    customer_id = Customer.id if model is Customer else Policy.customer_id
    db.session.execute(
        sa.insert(AuditLog.__table__).from_select(
            ["at", "actor_id", "entity", "entity_id", "customer_id", "action", "version", "reason"],
            sa.select(
                sa.literal(at, AuditLog.at.type),
                sa.literal(actor_id, sa.Integer),
                sa.literal(model.__tablename__),
                id_column,
                customer_id,
                sa.literal("create"),
                sa.literal(1),
                sa.literal(reason),
            ).where(where),
        )
    )


def _tag_ids(names: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(names), CHUNK):
        chunk = names[start : start + CHUNK]
        found.update(
            db.session.execute(sa.select(Tag.name, Tag.id).where(Tag.name.in_(chunk))).all()
        )
    return found


def _write_tags(customers: list[_Customer]) -> None:
    wanted = sorted({t for c in customers for t in c.values["tags"]})
    if not wanted:
        return
    known = _tag_ids(wanted)
    missing = [n for n in wanted if n not in known]
    if missing:
        bulk.insert(Tag.__table__, ["name"], [(n,) for n in missing])
        known.update(_tag_ids(missing))
    links = [(c.id, known[t]) for c in customers for t in c.values["tags"]]
    bulk.insert(customer_tag, ["customer_id", "tag_id"], links)


def _write_policies(customers, at: datetime, actor_id: int | None, reason: str) -> int:
    rows = [
        {
            **policy,
            "customer_id": c.id,
            "product_id": policy.get("product_id"),
            "version": 1,
            "created_at": at,
            "updated_at": at,
        }
        for c in customers
        for policy in c.policies
    ]
    if not rows:
        return 0
    names = list(rows[0])
    bulk.insert(Policy.__table__, names, [tuple(r[n] for n in names) for r in rows])
    for low, high in bulk.id_ranges(sorted({r["customer_id"] for r in rows})):
        holders = Policy.customer_id.between(low, high)
        _audit_created(Policy, Policy.id, holders, actor_id, at, reason)
    return len(rows)


# --- the rejects file ----------------------------------------------------------------------


def rejects_file(report: Report, data: bytes) -> tuple[str, bytes, str]:
    """The refused rows as uploaded (same format, same headers) with a reason column:
    (file name, content, MIME type). Fixed, it can be uploaded again."""
    reasons = report.reasons()
    with open_sheet(report.file_name, data) as sheet:
        headers = list(sheet.headers)
        layout = layout_of(headers)
        reason_at = layout.index.get("reason")
        if reason_at is None:
            reason_at = len(headers)
            headers.append(BY_FIELD["reason"].header())
        out_rows = []
        for line, cells in sheet.rows:
            if line in reasons:
                row = list(cells) + [""] * (len(headers) - len(cells))
                row[reason_at] = reasons[line]
                out_rows.append(row)
    stem = report.file_name.rsplit(".", 1)[0] or "import"
    if report.kind == "xlsx":
        content, mime = spreadsheets.xlsx_bytes(headers, out_rows), spreadsheets.XLSX_MIME
    else:
        content, mime = spreadsheets.csv_bytes(headers, out_rows), spreadsheets.CSV_MIME
    return f"{stem}-rejects.{report.kind}", content, mime


def too_large_message():
    limit = max_bytes()
    mb = 1024 * 1024
    size = f"{limit // mb} MB" if limit >= mb else f"{limit // 1024} KB"
    return _l(
        "The file is larger than %(size)s; split it and import the parts one after the other.",
        size=size,
    )
