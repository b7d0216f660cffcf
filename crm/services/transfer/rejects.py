"""The rejects file (退回行): the rows an import refused, as uploaded (same format, same
headers) with a reason column, to be fixed and uploaded again."""

from __future__ import annotations

from crm.services.transfer import spreadsheets
from crm.services.transfer.customer_columns import BY_FIELD, layout_of
from crm.services.transfer.report import Report
from crm.services.transfer.sheet import open_sheet


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
