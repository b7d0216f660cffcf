"""The product shelf as a CSV or XLSX file: exported as admins and managers read it, imported
through the same checks as a customer list (cells read as ``cells`` reads them, formulas
refused) and then the shelf's own rules (``shelf.read_product``), all or nothing.

A row names a product by its name and insurer: one already on the shelf is updated, another
is added. Nothing is deleted by an import; a product missing from the file stays as it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from crm import labels
from crm.core.inputs import InvalidInput
from crm.models import Product, Staff
from crm.models.enums import ProductType, RiskLevel
from crm.services.products import shelf
from crm.services.transfer import cells, limits, spreadsheets

# The file's columns: the shelf's fields with the headers the export writes.
HEADERS = {
    "name": _l("Product name"),
    "insurer": _l("Insurer"),
    "product_type": _l("Product type"),
    "risk_level": _l("Risk level"),
    "term_years": _l("Term (years)"),
    "single_premium": _l("Single premium"),
    "regular_years": _l("Regular premium terms (years)"),
    "investment_type": _l("Investment-type"),
    "age_bands": _l("Age bands"),
    "active_from": _l("On sale from"),
    "active_to": _l("On sale to"),
    "active": _l("On the shelf"),
}
# Other headers banks' shelf sheets use.
ALIASES = {"产品类型": "product_type", "保险期间": "term_years"}
_CHOICES = {
    "product_type": (ProductType, labels.PRODUCT_TYPE),
    "risk_level": (RiskLevel, labels.RISK_LEVEL),
}
_YES_NO = ("single_premium", "investment_type", "active")
_DATES = ("active_from", "active_to")


@dataclass
class ShelfImport:
    """What an import did, or (``problems``) why it did nothing."""

    added: int = 0
    updated: int = 0
    problems: list[tuple[int, str, str]] = field(default_factory=list)  # line, column, message


# --- export -------------------------------------------------------------------------------


def headers() -> list[str]:
    return [str(h) for h in HEADERS.values()]


def rows() -> Iterator[list[Any]]:
    """The shelf as the file's rows, in the user's language, retired products included."""
    for product in shelf.every_product():
        yield [
            shelf.band_text(product) if key == "age_bands" else _cell(key, getattr(product, key))
            for key in HEADERS
        ]


def _cell(key: str, value: Any) -> Any:
    if key in _CHOICES:
        return str(_CHOICES[key][1][value])
    if key in _YES_NO:
        return str(_l("Yes") if value else _l("No"))
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else value


def csv_file() -> bytes:
    return spreadsheets.csv_bytes(headers(), list(rows()))


def xlsx_file() -> bytes:
    return spreadsheets.xlsx_bytes(headers(), rows())


# --- import -------------------------------------------------------------------------------


def _header_table() -> dict[str, str]:
    """Each column by its key and by its header in Chinese and in English."""
    table = {cells.norm(key): key for key in HEADERS} | {
        cells.norm(alias): key for alias, key in ALIASES.items()
    }
    for locale in ("zh_CN", "en"):
        with force_locale(locale):
            table.update({cells.norm(str(text)): key for key, text in HEADERS.items()})
    return table


def import_shelf(actor: Staff | None, name: str, data: bytes) -> ShelfImport:
    """Read a shelf file and apply it (audited; the caller commits), or change nothing and
    say, line by line, what is wrong. Files that cannot be read raise ``InvalidInput``."""
    if len(data) > limits.max_bytes():
        raise limits.TooLarge()
    result = ShelfImport()
    wanted: list[tuple[Product | None, dict[str, Any]]] = []
    with spreadsheets.read(name, data) as upload:
        numbered = enumerate(upload.rows, start=1)
        header_line, header = next(
            ((n, c) for n, c in numbered if not spreadsheets.is_blank(c)), (0, [])
        )
        table = _header_table()
        positions = [
            (table[cells.norm(h)], i) for i, h in enumerate(header) if cells.norm(h) in table
        ]
        if not {"name", "product_type", "risk_level"} <= {key for key, _ in positions}:
            raise InvalidInput(
                {
                    "file": _l(
                        "The file needs the columns %(columns)s.",
                        columns=", ".join(
                            str(HEADERS[k]) for k in ("name", "product_type", "risk_level")
                        ),
                    )
                }
            )
        seen: dict[tuple[str, str], int] = {}
        for line, row in numbered:
            if spreadsheets.is_blank(row):
                continue
            if len(wanted) + len(result.problems) >= limits.max_rows():
                raise InvalidInput({"file": limits.too_many_rows_message(limits.max_rows())})
            problems, values = _read_row(row, positions)
            key = (values.get("name") or "", values.get("insurer") or "")
            if key in seen:
                problems["name"] = _l("This product is already on line %(line)d.", line=seen[key])
            seen.setdefault(key, line)
            current = shelf.find(*key)
            if current is not None:  # columns the file leaves out keep their values
                values = {f: getattr(current, f) for f in shelf.FIELDS} | values
            if not problems:
                try:
                    wanted.append((current, {**values, **shelf.read_product(values, current)}))
                except InvalidInput as error:
                    problems = error.errors
            result.problems += [
                (line, str(HEADERS.get(k, "")), str(message)) for k, message in problems.items()
            ]
    if result.problems:
        return result
    for current, values in wanted:
        if current is None:
            product = shelf.add_product(actor, values)
            result.added += 1
        else:
            product = current
            if shelf.update_product(actor, current, values):
                result.updated += 1
        if "active" in values and values["active"] is not None:
            (shelf.reinstate_product if values["active"] else shelf.retire_product)(actor, product)
    return result


def _read_row(row: list[str], positions: list[tuple[str, int]]) -> tuple[dict, dict[str, Any]]:
    """A row's cells as the shelf's values, and the cells that cannot be read at all."""
    texts, formulas = cells.row_texts(row, positions)
    problems: dict[str, Any] = {
        key: _l("A formula cannot be imported; enter the value itself.") for key in formulas
    }
    # A column the file has but a row leaves blank: blank (no term, no dates, no).
    values: dict[str, Any] = {key: None for key, _ in positions} | texts
    for key, (enum, names) in _CHOICES.items():
        if key in texts:
            member = cells.enum_table(enum, names).get(cells.norm(texts[key]))
            values[key] = member.value if member is not None else texts[key]
    for key in _YES_NO:
        if key in texts:
            values[key] = cells.yes_no(texts[key])
            if values[key] is None:
                problems[key] = _l("Enter yes or no.")
    for key in _DATES:
        if key in texts:
            values[key] = cells.parse_date(texts[key]) or texts[key]
    return problems, values
