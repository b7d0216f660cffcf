"""The nightly job ``effect_history`` stores the bank's effect history for the day's
suggestions, and its command does the same from the shell."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import EffectHistory, JobRun
from crm.models.enums import Quadrant, Response, Touchpoint
from crm.scheduler import jobs
from crm.services.advice import effects
from tests.services.advice.test_suggestions import customer_in, held


@pytest.fixture
def bound(app, monkeypatch):
    monkeypatch.setattr(jobs, "_binding", jobs.Binding(app, "host:1:test", lambda: True))
    effects.forget()
    yield
    effects.forget()


def test_the_nightly_job_stores_the_effect_history(world, bound, backend):
    assert jobs.spec_for("effect_history").when == jobs.Cron(hour=2, minute=30)
    for i in range(3):
        customer = customer_in(world, Quadrant.PAMPER, f"+86137000180{i:02d}")
        held(customer, Touchpoint.EVENT, 40, Response.POSITIVE if i else Response.NEUTRAL)

    jobs.run("effect_history")

    (run,) = db.session.scalars(sa.select(JobRun)).all()
    assert (run.job_id, run.ok) == ("effect_history", True)
    assert run.summary.startswith("effect history stored as of ")
    rows = {(r.quadrant, r.category): r for r in db.session.scalars(sa.select(EffectHistory))}
    assert len(rows) == len(Quadrant) * len(Touchpoint)
    event = rows[(Quadrant.PAMPER, Touchpoint.EVENT)]
    assert (event.held, event.positive) == (3, 2)
    assert (rows[(Quadrant.DEVELOP, Touchpoint.EVENT)].held, event.as_of) == (0, local_today())


def test_the_command_stores_it_too_and_a_rerun_replaces_it(world, app, backend, monkeypatch):
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    customer = customer_in(world, Quadrant.DEVELOP, "+8613700019001")
    held(customer, Touchpoint.VISIT, 5, Response.ENTHUSIASTIC)
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["crm", "effect-history"])
        assert result.exit_code == 0, result.output
    assert "Effect history stored" in result.output
    as_of, stored = effects.stored_history()
    assert as_of == local_today()
    assert stored[(Quadrant.DEVELOP, Touchpoint.VISIT)] == (1, 1)
    assert len(stored) == len(Quadrant) * len(Touchpoint)
