"""``flask crm experiment create|start|stop|report``: the same design rules and report as the
pages, in the shell's language; a refusal exits 2 with the reason and writes nothing."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models.enums import Quadrant
from crm.models.experiment import Experiment, ExperimentStatus
from tests.services.experiments.helpers import customers_in, moved_up_lately

pytestmark = pytest.mark.backends("sqlite")

CREATE = [
    "crm",
    "experiment",
    "create",
    "--name",
    "Visits for develop and maintain",
    "--category",
    "visit",
    "--quadrants",
    "develop,maintain",
    "--holdout",
    "0.2",
    "--metric",
    "upward_move",
    "--horizon-days",
    "90",
]


def test_create_start_report_and_stop_from_the_shell(runner, world, monkeypatch):
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    moved_up_lately(customers_in(world.alice, Quadrant.MAINTAIN, 20)[:4])
    db.session.commit()

    created = runner.invoke(args=CREATE)
    assert created.exit_code == 0, created.output
    experiment = db.session.scalars(sa.select(Experiment)).one()
    assert f"Experiment {experiment.id} saved as a draft." in created.output
    assert "80% power and 5% significance" in created.output

    started = runner.invoke(args=["crm", "experiment", "start", str(experiment.id)])
    assert started.exit_code == 0, started.output
    assert "23 customers assigned" in started.output  # and the world fixture's three

    report = runner.invoke(args=["crm", "experiment", "report", str(experiment.id)])
    assert report.exit_code == 0, report.output
    counts = dict(re.findall(r"^  (Treated as usual|Held out): (\d+)$", report.output, re.M))
    assert int(counts["Treated as usual"]) + int(counts["Held out"]) == 23
    assert 4 <= int(counts["Held out"]) <= 6  # a fifth of each stratum
    assert "not reached yet" in report.output

    stopped = runner.invoke(args=["crm", "experiment", "stop", str(experiment.id)])
    assert stopped.exit_code == 0, stopped.output
    db.session.expire_all()
    assert experiment.status == ExperimentStatus.STOPPED
    report = runner.invoke(args=["crm", "experiment", "report", str(experiment.id)])
    assert "Stopped before the horizon" in report.output
    assert "Upward quadrant move (primary)" in report.output
    assert "Premium (CNY) (secondary)" in report.output
    assert "Wald interval" in report.output

    again = runner.invoke(args=["crm", "experiment", "stop", str(experiment.id)])
    assert again.exit_code == 2 and "not running" in again.output


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("--holdout", "0.6", "between 5% and 50%"),
        ("--quadrants", "", "at least one quadrant"),
        ("--horizon-days", "0", "whole number of days"),
        ("--metric", "clicks", "listed metrics"),
    ],
)
def test_a_bad_design_exits_2_with_the_reason(runner, world, monkeypatch, option, value, message):
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    args = list(CREATE)
    args[args.index(option) + 1] = value
    result = runner.invoke(args=args)
    assert result.exit_code == 2 and message in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Experiment)) == 0


def test_the_report_speaks_chinese_by_default(runner, world, monkeypatch):
    monkeypatch.setenv("LANG", "C.UTF-8")
    runner.invoke(args=CREATE)
    experiment = db.session.scalars(sa.select(Experiment)).one()
    runner.invoke(args=["crm", "experiment", "start", str(experiment.id)])
    report = runner.invoke(args=["crm", "experiment", "report", str(experiment.id)])
    assert "照常服务组" in report.output and "尚未到观察期末" in report.output
