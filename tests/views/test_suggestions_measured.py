"""The dossier page's next best experiences say which finished experiment measured the
category's uplift, with its figure."""

from __future__ import annotations

from crm.models.enums import Quadrant
from tests.services.advice.test_measured import customer_in, visits_experiment


def test_the_dossier_page_says_which_experiment_measured_the_suggestion(
    world, backend, auth, client
):
    visits_experiment(world, stopped_after_days=30)
    covered = customer_in(world, Quadrant.MAINTAIN, "+8613700009301")
    auth.login("alice")
    page = client.get(f"/customers/{covered.id}").get_data(as_text=True)
    assert "实验“拜访暂停试验”实测" in page and "-625.00" in page
