"""The simulator holds a truth: with ``--effects FILE`` each experience held moves the
customer's willingness by exactly the file's effect for its category and quadrant, and by
nothing for a category whose effect is zero; every effect applied is in the ledger."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from crm import create_app
from crm.extensions import db
from crm.models import AuditLog, Experience
from crm.models.enums import ExperienceStatus, Touchpoint
from crm.services.simulation import run, truth

START = date(2026, 3, 2)
TODAY = run.add_months(START, 1)
# +3: a step no response delta, re-assessment, complaint or referral takes, so each one seen
# in the audit is the truth at work.
EFFECTS = '[visit]\n"*" = 3\n\n[event]\n"*" = 0\n[premium_event]\n"*" = 0\n'
EFFECTS += '[lifestyle]\n"*" = 0\n[bespoke]\n"*" = 0\n'
EXPERIENCE = re.compile(r"experience #(\d+)")


def _app(folder, name):
    return create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / name}",
            "CRM_SMS_CONSOLE_PATH": str(folder / "sms.jsonl"),
            "CRM_MAIL_CONSOLE_PATH": str(folder / "mail.jsonl"),
        },
    )


@pytest.fixture
def simulated_month(tmp_path):
    path = tmp_path / "effects.toml"
    path.write_text(EFFECTS, encoding="utf-8")
    app = _app(tmp_path, "month.sqlite3")
    with app.app_context():
        upgrade()
        summary = run.simulate(
            1, 5, customers=60, start=START, today=TODAY, effects=truth.read_effects(path)
        )
        yield summary
        db.session.remove()
        db.engine.dispose()


def test_each_experience_held_moves_willingness_by_the_truth(simulated_month):
    held = {
        e.id: e
        for e in db.session.scalars(
            sa.select(Experience).where(
                Experience.status == ExperienceStatus.DONE,
                Experience.category != Touchpoint.ROUTINE,
            )
        )
    }
    categories = Counter(e.category for e in held.values())
    assert categories[Touchpoint.VISIT] >= 5 and sum(categories.values()) > categories["visit"]

    # The willingness each record wrote, from the audit of the customer's revision with it.
    moved: dict[int, int] = {}
    for row in db.session.scalars(
        sa.select(AuditLog).where(AuditLog.entity == "customer", AuditLog.field == "willingness")
    ):
        found = EXPERIENCE.fullmatch(row.reason or "")
        if found:
            moved[int(found[1])] = int(row.new_value) - int(row.old_value)
    for experience_id, experience in held.items():
        step = moved.get(experience_id, 0)
        if experience.category == Touchpoint.VISIT:
            assert step == 3 or (step < 3 and experience.customer.willingness >= 97 - 15)
        else:
            assert step == 0, experience.category

    ledger = simulated_month.ledger
    assert ledger.totals()[Touchpoint.VISIT][0] == categories[Touchpoint.VISIT]
    assert {e.customer_id for e in ledger.entries if e.category == Touchpoint.VISIT} == {
        e.customer_id for e in held.values() if e.category == Touchpoint.VISIT
    }
    assert all(e.points == 0 for e in ledger.entries if e.category != Touchpoint.VISIT)


def test_the_command_takes_the_file_and_refuses_a_bad_one(tmp_path, monkeypatch):
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    good, bad = tmp_path / "good.toml", tmp_path / "bad.toml"
    good.write_text('[visit]\n"*" = 2\n', encoding="utf-8")
    bad.write_text("[visit]\nrich = 2\n", encoding="utf-8")
    app = _app(tmp_path, "cli.sqlite3")
    with app.app_context():
        upgrade()
        runner = app.test_cli_runner()
        start = ["--months", "1", "--customers", "5", "--start", "2026-01-05"]
        refused = runner.invoke(args=["crm", "simulate", *start, "--effects", str(bad)])
        assert refused.exit_code == 1 and "Unknown quadrant rich" in refused.output
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Experience)) == 0
        result = runner.invoke(args=["crm", "simulate", *start, "--effects", str(good)])
        assert result.exit_code == 0, result.output
        assert re.search(r"true effect of visit: \d+ experiences held, \+\d+", result.output)
        db.session.remove()
        db.engine.dispose()
