"""A manager opens the grid, drills into a cell and lands on the filtered list."""

import pytest

from crm.extensions import db
from crm.models.enums import MoveCause
from crm.services.customers import tiering
from tests.browser.test_dossier_flow import log_in

pytestmark = pytest.mark.browser


def test_grid_drill_down_to_the_filtered_list(world, live_server, page):
    base, _ = live_server
    world.bob_customer.willingness = 85  # maintain; the others stay in develop
    for c in (world.alice_customer, world.bob_customer, world.carol_customer):
        tiering.place(c, MoveCause.IMPORT, None, first=True)
    db.session.commit()

    log_in(page, base, "manager")
    page.get_by_role("link", name="分层").first.click()
    page.wait_for_url(f"{base}/grid")
    maintain = page.locator('a.cell[data-quadrant="maintain"]')
    assert "维系" in maintain.inner_text() and "1" in maintain.locator("strong").inner_text()
    maintain.click()
    page.wait_for_url("**/customers?quadrant=maintain**")
    rows = page.locator("table.list tbody tr")
    assert rows.count() == 1
    assert "李娜" in rows.first.inner_text() and "维系" in rows.first.inner_text()
    assert page.locator('select[name="quadrant"]').input_value() == "maintain"
