"""The analytics notebooks run top to bottom on a freshly simulated bank, on both databases,
and ``flask crm report migration`` writes a self-contained HTML file with the matrix and
its charts (tests/system/test_report_language.py: what the reports say, in which language)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

import analytics
from analytics import report
from crm.extensions import db

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "analytics").glob("*.ipynb"))
PNG = re.compile(r'<img [^>]*src="data:image/png;base64,[A-Za-z0-9+/=]{100,}"')


@pytest.fixture(autouse=True)
def kernel_reads_the_testing_configuration(monkeypatch):
    """The kernel builds the app from the environment, as a manager's would; here the
    testing profile (its secret key), like the app that simulated the bank."""
    monkeypatch.setenv("CRM_CONFIG", "testing")


def test_there_are_notebooks_and_they_are_committed_without_outputs():
    assert {n.stem for n in NOTEBOOKS} == {"migration", "effectiveness", "followup", "experiments"}
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        code = [c for c in notebook.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), path.name
        # Parameters first, read from the environment; the rest calls the package.
        assert "parameters" in code[0].metadata.get("tags", [])
        assert "CRM_DATABASE_URL" in code[0].source and "REPORT_FROM" in code[0].source
        assert "import analytics as an" in code[1].source


# The experiments notebook reports one experiment, which a simulated bank has none of:
# tests/system/test_experiments_notebook.py runs it on one.
HISTORY_NOTEBOOKS = [p for p in NOTEBOOKS if p.stem != "experiments"]


@pytest.mark.parametrize("path", HISTORY_NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_without_an_error_and_draws_its_charts(simulated, path):
    executed = report.execute(
        path, report.parameters(simulated.url, simulated.start, simulated.end)
    )

    code = [c for c in executed.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code)
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    figures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(figures) >= 2
    tables = [o for o in outputs if "dataframe" in o.get("data", {}).get("text/html", "")]
    assert len(tables) >= 3
    # Chinese by default, dates as Chinese writes them.
    first = "".join(o.get("data", {}).get("text/markdown", "") for o in code[1].outputs)
    assert "全行，2026年3月2日至2026年5月1日：" in first


def test_the_kernel_is_this_interpreter(tmp_path):
    path = tmp_path / "which.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("import sys\nprint(sys.executable)")]), path)
    executed = report.execute(path, {})
    assert executed.cells[0].outputs[0].text.strip() == sys.executable


# The English report's row labels of the quadrants (crm/labels.py), and of new dossiers.
ROW_LABELS = {
    "Develop": "develop",
    "Maintain": "maintain",
    "Cultivate": "cultivate",
    "Pamper": "pamper",
    "New dossiers": "new",
}


def matrix_rows(html: str) -> list[dict[str, list[int]]]:
    """Every table of the page whose rows are quadrants: {row's quadrant: cell counts}."""
    tables = []
    for table in re.findall(r"<table[^>]*dataframe.*?</table>", html, re.DOTALL):
        rows = {}
        for label, cells in re.findall(
            r"<tr>\s*<th>(Develop|Maintain|Cultivate|Pamper|New dossiers)</th>"
            r"((?:\s*<td>[^<]*</td>)+)",
            table,
        ):
            rows[ROW_LABELS[label]] = [int(v) for v in re.findall(r"<td>(\d+)</td>", cells)]
        if rows:
            tables.append(rows)
    return tables


def test_report_command_writes_the_matrix_and_its_charts_in_one_file(
    simulated, tmp_path, monkeypatch
):
    monkeypatch.setenv("LANG", "en_US.UTF-8")  # the command speaks the shell's language
    out = tmp_path / "report.html"
    app = simulated.app()
    result = app.test_cli_runner().invoke(
        args=[
            "crm",
            "report",
            "migration",
            "--from",
            simulated.start.isoformat(),
            "--to",
            simulated.end.isoformat(),
            "--lang",
            "en",
            "--out",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    assert f"Wrote {out}" in result.output
    html = out.read_text(encoding="utf-8")

    with app.app_context():
        source = analytics.load.Source(app, db.engine)
        events = analytics.quadrant_events(source)
        phones = [p for (p,) in db.session.execute(db.text("SELECT phone FROM customer"))]
        db.session.remove()
        db.engine.dispose()
    from datetime import timedelta

    eve = simulated.start - timedelta(days=1)
    expected = analytics.transition_matrix(events, eve, simulated.end, new=True)
    wanted = {label: [int(n) for n in row] for label, row in expected.iterrows()}
    assert wanted in matrix_rows(html)
    assert sum(sum(row) for row in wanted.values()) >= 60
    # Charts inline; nothing fetched from elsewhere; outputs only; no customer's phone.
    assert len(PNG.findall(html)) >= 3
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<link[^>]+href=\"?https?:", html)
    assert "an.connect(" not in html
    assert not [p for p in phones if p[-8:] in html]


def test_report_refuses_a_period_that_ends_before_it_starts(simulated, tmp_path, monkeypatch):
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    out = tmp_path / "report.html"
    result = (
        simulated.app()
        .test_cli_runner()
        .invoke(
            args=[
                "crm",
                "report",
                "migration",
                "--from",
                "2026-05-01",
                "--to",
                "2026-04-01",
                "--out",
                str(out),
            ]
        )
    )
    assert result.exit_code == 2
    assert "ends before it starts" in result.output
    assert not out.exists()


def test_report_on_a_bank_with_no_history_yet_says_so_instead_of_a_matrix(app, tmp_path):
    out = tmp_path / "report.html"
    result = app.test_cli_runner().invoke(
        args=[
            "crm",
            "report",
            "migration",
            "--from",
            "2026-01-01",
            "--to",
            "2026-01-31",
            "--lang",
            "en",
            "--out",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "There are no dossiers yet: the data cannot answer for any period." in html
    assert matrix_rows(html) == [] and "<table" not in html


def test_a_report_that_cannot_be_made_says_why_without_a_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("LANG", "en_US.UTF-8")  # the CLI speaks the shell's language
    from crm import create_app

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'no.db'}"})
    out = tmp_path / "report.html"
    result = app.test_cli_runner().invoke(
        args=[
            "crm",
            "report",
            "migration",
            "--from",
            "2026-01-01",
            "--to",
            "2026-01-31",
            "--out",
            str(out),
        ]
    )
    assert result.exit_code == 1
    assert "The report could not be made: migration.ipynb: a cell failed with" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()
    with app.app_context():
        db.engine.dispose()
