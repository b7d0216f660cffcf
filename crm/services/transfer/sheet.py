"""An uploaded customer list opened as a sheet: CSV (UTF-8 or GBK) or XLSX's first sheet, read
up to its header row, the rows after it numbered as the spreadsheet numbers them."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from crm.core.inputs import InvalidInput
from crm.services.transfer import spreadsheets
from crm.services.transfer.customer_columns import header_key, header_table


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
