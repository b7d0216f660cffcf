"""The experiments notebook reads an experiment's report through the same function as its
page (``crm.services.experiments.analysis.report``), and shows the same figures."""

from __future__ import annotations

import re

import pytest

from analytics import report
from crm.services.experiments import analysis
from tests.services.advice.test_measured import visits_experiment

NOTEBOOK = report.FOLDER / "experiments.ipynb"


@pytest.fixture(autouse=True)
def kernel_reads_the_testing_configuration(monkeypatch):
    monkeypatch.setenv("CRM_CONFIG", "testing")


def _text(outputs) -> str:
    parts = []
    for output in outputs:
        parts.append(output.get("text", ""))
        data = output.get("data", {})
        parts.append(data.get("text/markdown", "") + data.get("text/html", ""))
    return "\n".join(parts)


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_the_notebook_shows_the_reports_figures(world, database, backend, language):
    experiment = visits_experiment(world, stopped_after_days=30)
    expected = analysis.report(experiment)
    env = report.parameters(database.url, None, None, language=language)
    env["REPORT_EXPERIMENT"] = str(experiment.id)
    executed = report.execute(NOTEBOOK, env)

    code = [c for c in executed.cells if c.cell_type == "code"]
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert [o for o in outputs if "image/png" in o.get("data", {})]  # the interval chart
    shown = _text(outputs)
    assert "拜访暂停试验" in shown
    # The same difference and interval as the report: −5 points, no spread at all.
    difference = expected.primary.difference
    for value in (difference.estimate, difference.low, difference.high):
        assert f"{value:.2f}" in shown.replace("−", "-")
    assert "-625.00" in shown.replace("−", "-").replace(",", "")  # the uplift per ¥10,000
    if language == "en":
        assert "Held out" in shown and "Welch" in shown
    else:
        assert "对照实验" in shown and "各组的主要指标" in shown
        assert not re.search(r"Difference, treatment|Standardised difference|Covariate", shown)
