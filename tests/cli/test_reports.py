"""``flask crm report``: what cannot be answered is refused with a message before any
notebook runs, and no file is written."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crm.core.clock import local_today

pytestmark = pytest.mark.backends("sqlite")


@pytest.mark.parametrize("report", ["migration", "effectiveness", "followup"])
@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--from", "2026-05-01", "--to", "2026-04-01"], "The period ends before it starts."),
        (["--from", "2026-05-01", "--to", "tomorrow"], "The period ends after today"),
        (["--lang", "fr"], "Reports are written in zh_CN, en; fr is not one of them."),
        (["--branch", "城南支行"], "There is no branch named 城南支行."),
    ],
    ids=["reversed", "future", "language", "branch"],
)
def test_bad_input_is_refused_and_nothing_written(
    runner, world, tmp_path, monkeypatch, report, options, message
):
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    out = tmp_path / "report.html"
    tomorrow = (local_today() + timedelta(days=1)).isoformat()
    options = [tomorrow if o == "tomorrow" else o for o in options]
    if "--from" not in options:
        options += ["--from", "2026-04-01", "--to", "2026-04-30"]
    result = runner.invoke(args=["crm", "report", report, *options, "--out", str(out)])
    assert result.exit_code == 2
    assert message in result.output
    assert "Running" not in result.output
    assert not out.exists()


def test_the_refusal_speaks_the_shells_language(runner, world, tmp_path, monkeypatch):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    out = tmp_path / "report.html"
    result = runner.invoke(
        args=["crm", "report", "followup", "--from", "2026-05-01", "--to", "2026-04-01"]
        + ["--out", str(out)]
    )
    assert result.exit_code == 2 and "期间的结束日早于开始日。" in result.output
    assert not out.exists()
