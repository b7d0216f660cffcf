"""One row of a customer list checked (逐行校验): its cells read into what the dossier form
would submit, then checked by the dossier's and the policy's own rules, so that an import
refuses exactly what the form would."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from crm.core.inputs import InvalidInput, date_refusal
from crm.extensions import db
from crm.models import Branch, Staff
from crm.models.customer import DEFAULT_WILLINGNESS
from crm.services.customers import dossier_checks, policies
from crm.services.transfer.cells import (
    DEFAULTS,
    ENUMS,
    enum_table,
    norm,
    parse_date,
    row_texts,
    whole_number,
    yes_no,
)
from crm.services.transfer.customer_columns import IGNORED, POLICY_FIELDS, Layout
from crm.services.transfer.report import Problem

# The dossier rules name owner and branch by id; the file names them by their columns.
CHECK_FIELD = {"owner_id": "owner", "branch_id": "branch", "product_id": "product_name"}


@dataclass(slots=True)
class CheckedRow:
    line: int
    values: dict[str, Any]  # as dossier_checks.check normalised them
    phone: str | None  # when valid
    policy: dict[str, Any] | None  # when the row holds a valid one
    filled: set[str]  # the fields whose cells are not blank
    reasons: dict[str, Any]  # field -> why it cannot be imported


class RowChecker:
    """Reads each row into dossier data and checks it with the dossier's rules, the
    lists (staff, branches, what the user may assign) read once for the whole file."""

    def __init__(self, user: Staff | None, layout: Layout, *, texts_checked: bool = False):
        self.user = user
        self.layout = layout
        self.batch = dataclasses.replace(_batch_for(user), texts_checked=texts_checked)
        self.staff = _staff_by_name()
        self.branches = {
            norm(name): id_ for id_, name in db.session.execute(sa.select(Branch.id, Branch.name))
        }
        self.enums = {f: enum_table(*ENUMS[f]) for f in ENUMS if f in layout.index}
        self.positions = [(f, i) for f, i in layout.index.items() if f not in IGNORED]
        self.order = {
            f: i for i, (f, _) in enumerate(sorted(layout.index.items(), key=lambda x: x[1]))
        }
        # The same few texts ("男", "R3", a manager's name, a date) recur: read them once.
        self.seen: dict[tuple[str, str], Any] = {}

    def problem(self, line: int, field_name: str | None, message: Any) -> Problem:
        return Problem(line, self.layout.header(CHECK_FIELD.get(field_name, field_name)), message)

    def row(self, line: int, cells: list[str]) -> CheckedRow:
        """Read a row and check it by the dossier's and the policy's rules."""
        texts, formulas = row_texts(cells, self.positions)
        data, unreadable = self._dossier_data(texts)
        values, errors = dossier_checks.check(self.user, data, batch=self.batch)
        phone = values["phone"] if "phone" not in errors and "phone" not in formulas else None
        policy = None
        if any(f in texts for f in POLICY_FIELDS):
            try:
                policy = policies.clean_policy(self._policy_data(texts, unreadable))
            except InvalidInput as error:
                errors = {**errors, **error.errors}
        reasons = _one_reason_per_column(errors, unreadable, formulas, texts)
        return CheckedRow(line, values, phone, policy, set(texts), reasons)

    def problems(self, row: CheckedRow) -> list[Problem]:
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
        data["liquid_assets"] = get("liquid_assets")  # as typed: the dossier's rules read it
        will = get("willingness")
        data["willingness"] = DEFAULT_WILLINGNESS if will is None else whole_number(will)
        data["sms_consent"] = self._yes_no(get("sms_consent"), errors)
        data["owner_id"] = self._owner(get("owner"), errors)
        branch = get("branch")
        if branch is not None:
            data["branch_id"] = self.branches.get(norm(branch), 0)
            if not data["branch_id"]:
                errors["branch"] = _l("There is no branch named “%(name)s”.", name=branch)
        return data, errors

    def _policy_data(self, texts: dict[str, str], errors: dict[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = {
            "policy_number": texts.get("policy_number", ""),
            "product_name": texts.get("product_name", ""),
            "premium": texts.get("premium"),
        }
        for name in ("product_type", "payment_mode"):
            data[name] = self._enum(name, texts.get(name), errors) or ""
        for name in ("start_date", "maturity_date"):
            data[name] = self._date(name, texts.get(name), errors)
        data["dual_recording_ref"] = texts.get("dual_recording_ref", "")
        for name in ("returns_notice_shown", "risk_acknowledged"):
            data[name] = self._yes_no(texts.get(name), errors, name)
        return data

    def _yes_no(self, text: str | None, errors: dict[str, Any], field: str = "sms_consent") -> bool:
        if text is None:
            return False
        key = ("yes_no", text)
        if key not in self.seen:
            self.seen[key] = yes_no(text)
        if self.seen[key] is None:
            errors[field] = _l("Enter yes or no (是 or 否).")
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
            self.seen[key] = self.staff.get(norm(text))
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
            self.seen[key] = self.enums[name].get(norm(text))
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
        elif (refusal := date_refusal(parsed)) is not None:
            errors[name] = refusal
            return None
        return parsed


def _batch_for(user: Staff | None) -> dossier_checks.Batch:
    """What the importing user may assign, read once for the file."""
    if user is not None:
        return dossier_checks.Batch.for_user(user)
    # The command line without --as: the system, like an admin.
    active = sa.select(Staff).where(Staff.is_active_account.is_(True))
    return dossier_checks.Batch.of(
        db.session.scalars(active).all(), db.session.scalars(sa.select(Branch)).all()
    )


def _staff_by_name() -> dict[str, int]:
    """Staff ids by the names a file may give an owner: the username, or the display name
    when only one person has it."""
    staff = db.session.execute(sa.select(Staff.id, Staff.username, Staff.display_name)).all()
    display: dict[str, list[int]] = {}
    for s in staff:
        display.setdefault(norm(s.display_name), []).append(s.id)
    by_name = {k: ids[0] for k, ids in display.items() if len(ids) == 1}
    by_name.update({norm(s.username): s.id for s in staff})
    return by_name


def _one_reason_per_column(
    errors: dict[str, Any],
    unreadable: dict[str, Any],
    formulas: dict[str, str],
    texts: dict[str, str],
) -> dict[str, Any]:
    """A formula, else what could not be read, else the rule broken."""
    reasons = {CHECK_FIELD.get(k, k): v for k, v in errors.items()} | unreadable
    if "owner" in reasons and "branch" not in texts:
        reasons.pop("branch", None)  # the branch follows the owner, who is the problem
    for field_name, start in formulas.items():
        reasons[field_name] = _l(
            "Formulas are not accepted (the cell starts with “%(start)s”). Enter the value itself.",
            start=start,
        )
    return reasons
