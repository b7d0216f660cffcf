"""GET /api/v1/experiments: managers and admins read the experiments, their status and arms;
staff are listed none, as the pages are closed to them."""

from __future__ import annotations

import pytest

from crm.extensions import db
from crm.models.enums import Quadrant
from tests.services.experiments.helpers import customers_in, started

pytestmark = pytest.mark.backends("sqlite")


def test_managers_list_the_experiments_with_their_arms(world, api_as):
    customers_in(world.alice, Quadrant.MAINTAIN, 10)
    db.session.commit()
    experiment = started(world.manager, quadrants="maintain", holdout_share="0.3")

    answer = api_as(world.manager).get("/api/v1/experiments")
    assert answer.status_code == 200, answer.json
    (item,) = answer.json["items"]
    assert item["id"] == experiment.id
    assert item["category"] == "visit" and item["quadrants"] == ["maintain"]
    assert item["status"] == "running" and item["metric"] == "upward_move"
    assert item["holdout_share"] == "0.30"
    assert item["customers"] == {"treatment": 7, "holdout": 3}
    assert item["horizon_end"] == "2027-02-21"

    assert api_as(world.admin).get("/api/v1/experiments?status=draft").json["items"] == []
    assert api_as(world.alice).get("/api/v1/experiments").json["items"] == []
    assert api_as(world.manager).get("/api/v1/experiments?status=won").status_code == 422
