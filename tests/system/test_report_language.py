"""Reports in the manager's language: the Chinese report shows no stored code where the app
has a label for it, the English one no Chinese label beside the English; a period the data
cannot answer is said in a sentence. On the simulated bank, SQLite (the notebooks run on
both databases in test_notebooks.py)."""

from __future__ import annotations

import html as markup
import re
from datetime import date

import pytest
from flask_babel import force_locale

from analytics import report
from crm import labels

pytestmark = pytest.mark.backends("sqlite")

# Every code the reports show, by the app's label tables (the analytics' own "new" row too).
SHOWN = {
    "quadrant": labels.QUADRANT,
    "cause": labels.MOVE_CAUSE,
    "channel": labels.CHANNEL,
    "direction": labels.DIRECTION,
    "touchpoint": labels.TOUCHPOINT,
}
CODES = sorted(
    {getattr(k, "value", k) for table in SHOWN.values() for k in table} | {"new", "total"}
)


@pytest.fixture(autouse=True)
def kernel_reads_the_testing_configuration(monkeypatch):
    monkeypatch.setenv("CRM_CONFIG", "testing")


def visible_text(page: str) -> str:
    """What a reader sees: the page without its styles and scripts, tags and images."""
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.DOTALL)
    page = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", markup.unescape(page))


def codes_in(text: str) -> list[str]:
    return [c for c in CODES if re.search(rf"(?<![A-Za-z_]){re.escape(c)}(?![A-Za-z_])", text)]


def labels_in(language: str, app) -> dict[str, set[str]]:
    with app.app_context(), force_locale(language):
        return {kind: {str(v) for v in table.values()} for kind, table in SHOWN.items()}


def render(simulated, tmp_path, name, language, **kw) -> str:
    with simulated.app().app_context():  # as the command and the scheduler call it
        out = report.render(
            name,
            tmp_path / f"{name}.{language}.html",
            database_url=simulated.url,
            start=kw.pop("start", simulated.start),
            end=kw.pop("end", simulated.end),
            language=language,
            **kw,
        )
    return out.read_text(encoding="utf-8")


def test_the_chinese_reports_show_labels_where_the_app_has_them(simulated, tmp_path):
    app = simulated.app()
    chinese = labels_in("zh_CN", app)
    migration = visible_text(render(simulated, tmp_path, "migration", "zh_CN"))
    effectiveness = visible_text(render(simulated, tmp_path, "effectiveness", "zh_CN"))

    assert codes_in(migration) == []
    assert codes_in(effectiveness) == []
    # The labels are there instead: every quadrant, cause and direction, some channels, and
    # the touchpoints held.
    for kind in ("quadrant", "cause", "direction"):
        assert all(label in migration for label in chinese[kind]), kind
    assert any(label in migration for label in chinese["channel"])
    assert "常规服务" in effectiveness and "定期拜访" in effectiveness
    assert "迁移矩阵" in migration and "客户分层迁移" in migration
    assert "2026年3月2日" in migration  # dates as Chinese writes them


def test_the_english_report_has_no_chinese_label_beside_the_english(simulated, tmp_path):
    app = simulated.app()
    chinese, english = labels_in("zh_CN", app), labels_in("en", app)
    page = render(simulated, tmp_path, "migration", "en", branch="城东支行")
    text = visible_text(page)

    assert [label for kind in chinese.values() for label in kind if label in text] == []
    assert all(label in text for label in english["quadrant"] | english["direction"])
    assert "Transition matrix" in text and "Mar 2, 2026" in text
    assert '<html lang="en">' in page
    # One branch: the split by branch names no other.
    assert "城东支行" in text and "高新区支行" not in text and "老城支行" not in text


def test_a_period_before_the_first_dossier_is_said_in_a_sentence(simulated, tmp_path):
    page = render(
        simulated, tmp_path, "migration", "en", start=date(2025, 1, 1), end=date(2025, 1, 31)
    )
    text = visible_text(page)
    assert "before the first dossier was opened on Mar 2, 2026" in text
    assert "Transition matrix" not in text and "<table" not in page
