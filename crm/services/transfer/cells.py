"""A row's cells (单元格) read as values: the texts a bank's spreadsheet holds, taken as the
dossier form would take what a person typed.

Placeholders ("-") are blanks; a text cell holds any text, as a form field would (one that
starts like a formula too), but a workbook's formula, or a formula where a value belongs (a
date, an amount, a choice), is noted and never read; yes and no, enum members and dates are
read however Chinese and English spreadsheets write them. Amounts are read by the dossier's
rules with the forms' own parser (``inputs.parse_amount``).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any

from flask_babel import force_locale

from crm import labels
from crm.core.inputs import FORMULA_STARTS
from crm.models.customer import DEFAULT_RISK_LEVEL
from crm.models.enums import Channel, Gender, PaymentMode, ProductType, RiskLevel
from crm.services.transfer import spreadsheets

_PLACEHOLDER = re.compile(r"[-—－]+")  # "-" for "none", as Chinese spreadsheets write it
_SPECIAL_STARTS = frozenset((*FORMULA_STARTS, "'", "—"))  # cells that need a second look
# The free texts of a dossier and a policy: what a person may type in a form's text field.
TEXT_FIELDS = frozenset(
    (
        "name",
        "email",
        "occupation",
        "family_notes",
        "interests_notes",
        "notes",
        "tags",
        "policy_number",
        "product_name",
    )
)

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
DEFAULTS = {"gender": Gender.UNSPECIFIED.value, "risk_level": DEFAULT_RISK_LEVEL.value}


def row_texts(
    cells: list[str], positions: list[tuple[str, int]]
) -> tuple[dict[str, str], dict[str, str]]:
    """The row's filled cells as text by field, and the fields whose cell holds a formula
    (by the character it starts with): those are refused, never read."""
    texts: dict[str, str] = {}
    formulas: dict[str, str] = {}
    width = len(cells)
    for field_name, position in positions:
        cell = cells[position] if position < width else ""
        text = cell.strip()
        if text and text[0] in _SPECIAL_STARTS:
            if _PLACEHOLDER.fullmatch(text):
                continue
            if isinstance(cell, spreadsheets.Formula) or (
                field_name not in TEXT_FIELDS and spreadsheets.is_formula(text)
            ):
                formulas[field_name] = text[0]
                continue
            text = spreadsheets.unescape(text)
        if text:
            texts[field_name] = text
    return texts, formulas


def norm(text: str) -> str:
    """A text as compared with names and labels: width, spaces and case left out."""
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", text)).lower()


def enum_table(enum, names: dict) -> dict[str, Any]:
    """Each member by its code and by its label in Chinese and in English."""
    table = {norm(m.value): m for m in enum}
    for locale in ("zh_CN", "en"):
        with force_locale(locale):
            for member, text in names.items():
                label = str(text)
                table.setdefault(norm(label), member)
                # "R3 平衡型": the level alone ("平衡型") names it too.
                code, _, rest = label.partition(" ")
                if rest and norm(code) == norm(member.value):
                    table.setdefault(norm(rest), member)
    return table


def yes_no(text: str) -> bool | None:
    """Yes or no in either language, or a tick or a cross; None for anything else."""
    word = norm(text)
    return True if word in YES else False if word in NO else None


def parse_date(text: str) -> date | None:
    match = _DATE.fullmatch(text) or _COMPACT_DATE.fullmatch(text)
    if not match:
        return None
    try:
        return date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


def whole_number(text: str) -> int | str:
    """A whole number ("55", "55.0") as an int; anything else as written, for the dossier's
    rules to refuse with their own message."""
    return int(float(text)) if _WHOLE.fullmatch(text) else text
