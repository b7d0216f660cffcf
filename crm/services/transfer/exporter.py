"""Customer export (客户导出): any filtered customer list as CSV or XLSX.

The columns and headers are those an import reads (``customer_columns``), in the user's
language, so that an export imports again. Phones are masked unless the user's role allows
full numbers (``access.sees_full_phones``); text a spreadsheet would run as a formula is
neutralised; every export is audited: who, which filters, how many rows, masked or not.
Rows are read from the database in batches and written as they come, so a list of any
length fits in little memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import IO, Any
from urllib.parse import urlencode

import sqlalchemy as sa
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from crm import labels
from crm.core import access, audit
from crm.core.clock import local_today
from crm.core.phones import mask_phone, national_digits
from crm.extensions import db
from crm.models import Branch, Customer, Staff
from crm.services.customers.customer_list import CustomerFilters, filtered_query
from crm.services.transfer import customer_columns, spreadsheets

# The columns an export fills, in this order ("quadrant" is read back and ignored).
FIELDS = (
    "name",
    "phone",
    "gender",
    "birth_date",
    "liquid_assets",
    "assets_as_of",
    "willingness",
    "risk_level",
    "channel",
    "quadrant",
    "owner",
    "branch",
    "tags",
    "sms_consent",
    "email",
    "occupation",
    "family_notes",
    "interests_notes",
    "notes",
)
BATCH = 1000


class Format(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


@dataclass(frozen=True)
class Export:
    """An export under way: what it holds, as recorded in the audit trail. The query is
    built with the user's scope when the export starts, so that streaming the rows later
    needs nothing of the request's session."""

    query: sa.Select
    filters: CustomerFilters
    format: Format
    masked: bool
    rows: int
    locale: str  # the user's language when it started: headers and labels in it

    @property
    def file_name(self) -> str:
        return f"customers-{local_today().isoformat()}.{self.format.value}"

    @property
    def mimetype(self) -> str:
        return spreadsheets.CSV_MIME if self.format == Format.CSV else spreadsheets.XLSX_MIME


def start_export(user: Staff, filters: CustomerFilters, format: Format) -> Export:
    """Count what ``user`` may see under ``filters`` and record the export before any row
    leaves (the caller commits); then ``csv_chunks`` or ``write_xlsx`` writes it."""
    query = filtered_query(user, filters)
    rows = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    masked = not access.sees_full_phones(user)
    audit.record(
        user,
        "export",
        0,
        "export",
        {
            "format": (None, format.value),
            "filters": (None, urlencode(filters.as_args()) or "-"),
            "rows": (None, rows),
            "phones": (None, "masked" if masked else "full"),
        },
    )
    return Export(query, filters, format, masked, rows, str(get_locale() or "zh_CN"))


def headers() -> list[str]:
    return [customer_columns.BY_FIELD[f].header() for f in FIELDS]


def _customers(export: Export) -> Iterator[Customer]:
    query = (
        export.query.options(selectinload(Customer.tags))
        .order_by(Customer.id)
        .execution_options(yield_per=BATCH)
    )
    yield from db.session.scalars(query)


def _phone(e164: str, masked: bool) -> str:
    if masked:
        return mask_phone(e164)
    # Mainland numbers as people dial them; others in full international form.
    return national_digits(e164) if e164.startswith("+86") else e164


def rows(export: Export, *, as_text: bool) -> Iterator[list[Any]]:
    """Each customer as a row of ``FIELDS``; ``as_text`` for CSV, else typed for XLSX."""
    # Labels and names once, not once per row.
    # The owner as people know them (the import reads a display name back, or a username).
    owners = dict(db.session.execute(sa.select(Staff.id, Staff.display_name)).all())
    branches = dict(db.session.execute(sa.select(Branch.id, Branch.name)).all())
    names = {
        kind: {key: str(text) for key, text in table.items()}
        for kind, table in (
            ("gender", labels.GENDER),
            ("risk_level", labels.RISK_LEVEL),
            ("channel", labels.CHANNEL),
            ("quadrant", labels.QUADRANT),
        )
    }
    yes, no = _("yes"), _("no")

    def when(value: date | None):
        if value is None:
            return ""
        return value.isoformat() if as_text else value

    for c in _customers(export):
        row = {
            "name": c.name,
            "phone": _phone(c.phone, export.masked),
            "gender": names["gender"][c.gender],
            "birth_date": when(c.birth_date),
            "liquid_assets": f"{c.liquid_assets:.2f}" if as_text else c.liquid_assets,
            "assets_as_of": when(c.assets_as_of),
            "willingness": c.willingness,
            "risk_level": names["risk_level"][c.risk_level],
            "channel": names["channel"][c.channel] if c.channel else "",
            "quadrant": names["quadrant"][c.quadrant],
            "owner": owners.get(c.owner_id, ""),
            "branch": branches.get(c.branch_id, ""),
            "tags": ", ".join(c.tag_names),
            "sms_consent": yes if c.sms_consent else no,
            "email": c.email or "",
            "occupation": c.occupation or "",
            "family_notes": c.family_notes or "",
            "interests_notes": c.interests_notes or "",
            "notes": c.notes or "",
        }
        yield [row[f] for f in FIELDS]


def csv_chunks(export: Export) -> Iterator[bytes]:
    """The export as CSV in UTF-8 with a byte-order mark (so Excel reads the Chinese),
    a batch of rows at a time."""
    yield "\ufeff".encode()
    with force_locale(export.locale):
        batch: list[str] = []
        for line in spreadsheets.csv_lines(_with_headers(rows(export, as_text=True))):
            batch.append(line)
            if len(batch) == BATCH:
                yield "".join(batch).encode("utf-8")
                batch = []
        yield "".join(batch).encode("utf-8")


def _with_headers(body: Iterator[list[Any]]) -> Iterator[list[Any]]:
    yield headers()
    yield from body


def write_xlsx(export: Export, out: IO[bytes]) -> None:
    """The export as an XLSX workbook of one sheet, written to ``out``."""
    with force_locale(export.locale):
        spreadsheets.write_xlsx(out, headers(), rows(export, as_text=False))
