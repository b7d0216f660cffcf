"""The experiments' pages: managers and admins create a design and see its power, start it,
read the counts (and only the counts before the horizon), stop it; staff get 404. Planning
by hand for a held-out customer warns, and goes on once confirmed."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import Customer, Experience, Staff
from crm.models.enums import Quadrant
from crm.models.experiment import (
    Arm,
    Experiment,
    ExperimentAssignment,
    ExperimentContamination,
    ExperimentStatus,
)
from tests.services.experiments.helpers import customers_in, moved_up_lately

pytestmark = pytest.mark.backends("sqlite")

EN = {"Accept-Language": "en"}
DESIGN = {
    "name": "Visits for develop customers",
    "hypothesis": "Visits move develop customers up.",
    "category": "visit",
    "quadrants": ["develop"],
    "holdout_share": "20",
    "metric": "upward_move",
    "horizon_days": "90",
}


def test_staff_cannot_open_the_experiments(world, auth):
    experiment_id = _create(world, auth)
    auth.logout()
    auth.login("alice")
    for url in ("/experiments", "/experiments/new", f"/experiments/{experiment_id}"):
        assert auth.client.get(url).status_code == 404
    assert auth.client.post(f"/experiments/{experiment_id}/start").status_code == 404
    assert b"/experiments" not in auth.client.get("/today", headers=EN).data


def _create(world, auth) -> int:
    auth.login("manager")
    auth.client.get("/experiments/new", headers=EN)
    answer = auth.client.post("/experiments/new", data={**DESIGN}, headers=EN)
    assert answer.status_code == 302, answer.data
    return db.session.scalar(sa.select(Experiment.id).where(Experiment.name == DESIGN["name"]))


def test_a_manager_checks_the_power_then_creates_starts_and_stops_an_experiment(world, auth):
    moved_up_lately(customers_in(world.alice, Quadrant.DEVELOP, 30)[:6])
    db.session.commit()
    auth.login("manager")
    page = auth.client.get("/experiments/new", headers=EN)
    assert page.status_code == 200

    checked = auth.client.post("/experiments/new", data={**DESIGN, "action": "check"}, headers=EN)
    text = checked.data.decode()
    assert "this design can detect a difference of" in text
    assert "at 80% power and 5% significance" in text
    assert "can detect nothing useful" in text  # 33 customers cannot show a small effect
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Experiment)) == 0

    created = auth.client.post(
        "/experiments/new", data={**DESIGN}, headers=EN, follow_redirects=True
    )
    assert "saved as a draft" in created.data.decode()
    assert 'data-testid="power"' in created.data.decode()
    experiment = db.session.scalars(sa.select(Experiment)).one()

    started = auth.client.post(
        f"/experiments/{experiment.id}/start",
        headers=EN,
        follow_redirects=True,
    )
    text = started.data.decode()
    assert "Experiment started: 33 customers assigned." in text
    assert 'data-testid="peeking"' in text and "only the counts are shown" in text
    assert 'data-testid="primary"' not in text
    db.session.expire_all()
    assert experiment.status == ExperimentStatus.RUNNING

    stopped = auth.client.post(
        f"/experiments/{experiment.id}/stop",
        headers=EN,
        follow_redirects=True,
    )
    text = stopped.data.decode()
    assert "before the horizon" in text and 'data-testid="primary"' in text
    assert "Secondary metrics" in text and "Wald interval" in text
    listing = auth.client.get("/experiments", headers=EN).data.decode()
    assert DESIGN["name"] in listing and "Stopped" in listing


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"holdout_share": "60"}, "between 5% and 50%"),
        ({"holdout_share": "2"}, "between 5% and 50%"),
        ({"quadrants": []}, "at least one quadrant"),
        ({"horizon_days": "0"}, "whole number of days"),
        ({"metric": "clicks"}, "listed metrics"),
    ],
)
def test_a_bad_design_is_refused_on_the_page_and_nothing_saved(world, auth, changes, message):
    auth.login("admin")
    auth.client.get("/experiments/new", headers=EN)
    answer = auth.client.post("/experiments/new", data={**DESIGN, **changes}, headers=EN)
    assert answer.status_code == 200 and message in answer.data.decode()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Experiment)) == 0


def test_the_pages_speak_chinese(world, auth):
    experiment_id = _create(world, auth)
    page = auth.client.get(f"/experiments/{experiment_id}").data.decode()
    assert "停用的体验项目" in page and "主要指标" in page and "开始" in page
    assert "Touchpoint withheld" not in page and "What this design can detect" not in page


def test_planning_a_visit_by_hand_for_a_held_out_customer_warns_then_goes_on(world, auth):
    customers_in(world.alice, Quadrant.DEVELOP, 6)
    db.session.commit()
    experiment_id = _create(world, auth)
    auth.client.get(f"/experiments/{experiment_id}")
    started = auth.client.post(
        f"/experiments/{experiment_id}/start", data={"version": "1"}, headers=EN
    )
    assert started.status_code == 302
    # The draw is keyed per experiment: the held customer may be any owner's, who plans.
    held_id, owner = db.session.execute(
        sa.select(ExperimentAssignment.customer_id, Staff.username)
        .join(Customer, Customer.id == ExperimentAssignment.customer_id)
        .join(Staff, Staff.id == Customer.owner_id)
        .where(ExperimentAssignment.arm == Arm.HOLDOUT)
        .limit(1)
    ).one()
    auth.logout()
    auth.login(owner)
    url = f"/customers/{held_id}/experiences/new"
    auth.client.get(url, headers=EN)
    plan = {
        "category": "visit",
        "due_on": (local_today() + timedelta(days=2)).isoformat(),
        "planned_cost": "",
    }
    warned = auth.client.post(url, data=plan, headers=EN)
    text = warned.data.decode()
    assert warned.status_code == 200 and "holds this customer out" in text and "Plan anyway" in text
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Experience)
            .where(Experience.customer_id == held_id)
        )
        == 0
    )

    went_on = auth.client.post(url, data={**plan, "holdout_confirmed": "y"}, headers=EN)
    assert went_on.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ExperimentContamination)) == 1
