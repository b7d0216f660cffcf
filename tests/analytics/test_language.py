"""The reports' language: codes by the app's labels, numbers and dates as the language
writes them, and every text the notebooks say translated in the app's catalogue."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from babel.messages.pofile import read_po
from flask_babel import force_locale

from analytics import report
from analytics.language import UnknownLanguage, Words, language_of
from analytics.quadrants import moves_per_cause

pytestmark = pytest.mark.backends("sqlite")

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "crm/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
SAID = re.compile(r'say(?:\.md)?\(\s*((?:"(?:[^"\\]|\\.)*"\s*)+)')


def said_in_notebooks() -> set[str]:
    """Every text a report notebook passes to ``say`` or ``say.md``."""
    texts = set()
    for name in report.NOTEBOOKS.values():
        notebook = json.loads((ROOT / "analytics" / name).read_text(encoding="utf-8"))
        for cell in notebook["cells"]:
            if cell["cell_type"] != "code":
                continue
            for found in SAID.finditer("".join(cell["source"])):
                texts.add("".join(re.findall(r'"((?:[^"\\]|\\.)*)"', found.group(1))))
    return texts


def test_every_text_the_notebooks_say_has_a_chinese_translation():
    with CATALOGUE.open("rb") as handle:
        translated = {m.id: m.string for m in read_po(handle) if m.id and m.string}
    said = said_in_notebooks()
    assert len(said) > 20
    assert sorted(t for t in said if t not in translated) == []


def test_a_table_shows_labels_and_numbers_in_the_language(app):
    events = pd.DataFrame(
        {
            "customer": ["a", "a", "b", "b"],
            "from_quadrant": [None, "develop", None, "pamper"],
            "to_quadrant": ["develop", "pamper", "pamper", "maintain"],
            "cause": ["import", "experience", "import", "complaint"],
            "experience_id": [None, 7, None, None],
            "at": pd.to_datetime(
                ["2026-01-02", "2026-02-03", "2026-01-02", "2026-02-04"]
            ).tz_localize("Asia/Shanghai"),
        }
    )
    table = moves_per_cause(events, "2026-02-01", "2026-02-28")
    table.loc["experience", "total"] = 12345
    with force_locale("zh_CN"):
        shown = Words("zh_CN").table(table, index="cause", columns="direction")
    assert list(shown.columns) == ["向上", "向下", "平移", "合计"]
    assert "客户体验" in shown.index and "投诉" in shown.index and "experience" not in shown.index
    assert shown.loc["客户体验", "合计"] == "12,345"
    assert shown.index.name == "迁移原因"
    with force_locale("en"):
        shown = Words("en").table(table, index="cause", columns="direction", percent=["up"])
    assert list(shown.columns) == ["Upward", "Downward", "Lateral", "Total"]
    assert shown.loc["Experience", "Upward"] == "100.0%"


@pytest.mark.parametrize(
    ("tag", "language"), [(None, "zh_CN"), ("zh", "zh_CN"), ("zh-CN", "zh_CN"), ("en_GB", "en")]
)
def test_languages_are_read_from_their_tags(tag, language):
    assert language_of(tag) == language


@pytest.mark.parametrize("tag", ["fr", "english", "ja_JP"])
def test_other_languages_are_refused(tag):
    with pytest.raises(UnknownLanguage):
        language_of(tag)
