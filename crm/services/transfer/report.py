"""What a check and an import of a customer list tell their caller: the report (导入报告) of
rows read, customers and policies found, and each problem by line; progress along the way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

Progress = Callable[[str, int, int], None]  # (stage "check" or "write", done, total)


class Mode(StrEnum):
    ALL_OR_NOTHING = "all"
    VALID_ROWS = "valid"


@dataclass(frozen=True)
class Problem:
    """One reason a row (or the file) cannot be imported."""

    line: int
    column: str  # the header as the file has it ("" for the whole row)
    message: Any  # a lazy string: rendered in the reader's language


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
