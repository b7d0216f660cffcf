"""Spreadsheet files as banks and staff exchange them: CSV (UTF-8 with a byte-order mark, or
GBK) and XLSX. Reading turns an upload into rows of text cells; writing makes files that open
in Excel with the Chinese intact and no cell that runs as a formula (formula injection: a
customer named ``=HYPERLINK(…)`` stays a name). The importer reads with these, the exporter
and the importer's rejects file write with them.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from flask_babel import lazy_gettext as _l

from crm.core.inputs import FORMULA_STARTS, InvalidInput, has_control_characters

# Werkzeug appends "; charset=utf-8" to every text/* type it is given; naming the charset
# here too sent it twice.
CSV_MIME = "text/csv"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- reading -----------------------------------------------------------------------------


@dataclass
class Upload:
    """A file's rows as text cells, before anything is known of its columns."""

    kind: str  # "csv" or "xlsx"
    encoding: str | None  # "utf-8" or "gbk" for CSV
    rows: Iterator[list[str]]
    estimate: int  # how many rows to expect, for progress
    # No control characters anywhere in the file (known for CSV, scanned whole at once;
    # XLSX cells are checked row by row).
    clean_text: bool = False


@contextlib.contextmanager
def read(name: str, data: bytes) -> Iterator[Upload]:
    """An upload as rows of text: CSV in UTF-8 or GBK (comma, tab or semicolon), or the first
    sheet of an XLSX workbook, closed afterwards. Files that cannot be read raise
    ``InvalidInput`` for "file"."""
    if not data.strip():
        raise InvalidInput({"file": _l("The file is empty.")})
    if data[:4] == b"PK\x03\x04":
        rows, estimate, close = _xlsx_rows(data)
        try:
            yield Upload("xlsx", None, rows, estimate)
        finally:
            close()
        return
    if data[:4] == b"\xd0\xcf\x11\xe0":
        raise InvalidInput(
            {"file": _l("Excel 97–2003 workbooks (.xls) cannot be read; save it as XLSX or CSV.")}
        )
    if name.lower().endswith((".xlsx", ".xlsm")):
        raise InvalidInput(
            {"file": _l("This XLSX workbook cannot be read; open it in Excel and save it again.")}
        )
    text, encoding = _decode(data)
    yield Upload(
        "csv", encoding, _csv_rows(text), text.count("\n"), not has_control_characters(text)
    )


def _decode(data: bytes) -> tuple[str, str]:
    if b"\x00" in data[:4096]:
        raise InvalidInput({"file": _l("This is not a CSV or XLSX file.")})
    for encoding in ("utf-8-sig", "gb18030"):  # GB18030 is GBK's superset
        try:
            return data.decode(encoding), "utf-8" if encoding == "utf-8-sig" else "gbk"
        except UnicodeDecodeError:
            continue
    raise InvalidInput(
        {
            "file": _l(
                "The file is neither UTF-8 nor GBK text. Save it from Excel as "
                "“CSV UTF-8” or as an XLSX workbook, and upload it again."
            )
        }
    )


def _delimiter(top: str) -> str:
    """Comma, unless the first lines hold more tabs or semicolons (as some exports write)."""
    counts = {d: top.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _csv_rows(text: str) -> Iterator[list[str]]:
    top = "\n".join(text.split("\n", 10)[:10])  # the header may sit under a title
    yield from csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(top))


class Formula(str):
    """A workbook cell that holds a formula, as its text ("=A2"): the file does not hold the
    value a spreadsheet shows for it, so it cannot be imported. (A text cell that merely
    starts with "=" is text, as it would be typed in a form.)"""


def cell_text(value: Any, data_type: str | None = None) -> str:
    """A spreadsheet cell as the text the checks read (a formula keeps its "=")."""
    if data_type == "f":
        text = value if isinstance(value, str) else str(getattr(value, "text", value))
        return Formula(text if text.startswith("=") else "=" + text)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return cell_text(value, "f")  # array formulas and the like


def _xlsx_rows(data: bytes) -> tuple[Iterator[list[str]], int, Callable[[], None]]:
    import openpyxl

    try:
        with warnings.catch_warnings():
            # Workbooks from other tools often lack styles openpyxl expects; it only warns.
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # whatever a damaged or foreign workbook makes openpyxl raise
        raise InvalidInput(
            {"file": _l("This XLSX workbook cannot be read; open it in Excel and save it again.")}
        ) from None
    if not book.worksheets:
        book.close()
        raise InvalidInput({"file": _l("The file is empty.")})
    sheet = book.worksheets[0]

    def rows() -> Iterator[list[str]]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # Cells, not bare values: a formula and a text that starts with "=" differ only
            # by their type.
            for cells in sheet.iter_rows():
                yield [cell_text(c.value, c.data_type) for c in cells]

    return rows(), sheet.max_row or 0, book.close


def is_blank(cells: list[str]) -> bool:
    return not any(cells) or not any(c.strip() for c in cells)


# --- formulas ----------------------------------------------------------------------------

# What may start with + or - and still be a value: a number or a phone number.
_PLAIN_NUMBER = re.compile(r"[+\-＋－][\d\s().,\-－（）]*\d[\d\s().,\-－（）]*")
# What an export marks as text: whatever a spreadsheet could evaluate, a formula's start in
# either width, or a tab or carriage return before one. Apostrophes before one of these are
# marked once more, so that ``unescape`` gives the text back whole.
_NEUTRALISED = (*FORMULA_STARTS, "\t", "\r")


def is_formula(text: str) -> bool:
    """Whether a cell that should hold a value (a date, an amount, a choice) holds what a
    spreadsheet would run as a formula instead."""
    return text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text)


def _needs_mark(text: str) -> bool:
    return text.lstrip("'").startswith(_NEUTRALISED)


def unescape(text: str) -> str:
    """A leading apostrophe is how spreadsheets (and our exports) mark text that starts
    like a formula as text; the value is what follows it."""
    return text[1:] if text.startswith("'") and _needs_mark(text[1:]) else text


def neutralise(text: str) -> str:
    """Text for a file a person opens in a spreadsheet: every cell a spreadsheet could
    evaluate (phone numbers such as +14155550123 included) gets the apostrophe that marks it
    as text, which ``unescape`` reads back."""
    return "'" + text if _needs_mark(text) else text


# --- writing -----------------------------------------------------------------------------


def csv_lines(rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """CSV text, one row at a time, every cell safe to open in a spreadsheet."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([neutralise(cell_text(v)) if isinstance(v, str) else v for v in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def csv_bytes(headers: list[str], rows: list[list[Any]]) -> bytes:
    # UTF-8 with a byte-order mark: Excel then opens the Chinese correctly.
    return ("\ufeff" + "".join(csv_lines([headers, *rows]))).encode("utf-8")


def xlsx_bytes(headers: list[str], rows: Iterable[list[Any]]) -> bytes:
    out = io.BytesIO()
    write_xlsx(out, headers, rows)
    return out.getvalue()


def write_xlsx(out, headers: list[str], rows: Iterable[list[Any]]) -> int:
    """An XLSX workbook of one sheet, written as it goes (openpyxl's write-only mode);
    returns how many rows it holds. Text that would run as a formula is neutralised."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(headers)
    count = 0
    for row in rows:
        sheet.append([neutralise(v) if isinstance(v, str) else v for v in row])
        count += 1
    book.save(out)
    return count
