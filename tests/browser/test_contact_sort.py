"""The customer list sorted by last contact in a real browser, on a phone and on a desk:
the order changes, each row shows the day (or that there was none) and the page still fits
the phone's width."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import Experience
from crm.models.enums import ExperienceStatus, PlanOrigin, Touchpoint
from crm.services.planning import contact_dates
from tests.browser.test_navigation import DESK, PHONE, at, log_in  # noqa: F401 (a fixture)
from tests.support.factories import make_customer

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", [PHONE, DESK], ids=["375", "1440"])
def test_sorting_by_last_contact_changes_the_order(world, live_server, at, viewport):  # noqa: F811
    today = local_today()
    for n, (name, days_ago) in enumerate((("赵敏", 30), ("陈静", 2))):
        customer = make_customer(world.alice, name, f"+8613730000{n:03d}")
        day = today - timedelta(days=days_ago)
        db.session.add(
            Experience(
                customer=customer,
                category=Touchpoint.VISIT,
                status=ExperienceStatus.DONE,
                origin=PlanOrigin.STAFF,
                due_on=day,
                held_on=day,
                planned_cost=Decimal("100.00"),
                version=1,
            )
        )
        db.session.flush()
        contact_dates.refresh([customer.id])
    db.session.commit()
    base, _ = live_server
    page = at(viewport)
    log_in(page, base, "alice")
    names = page.locator("table.list tbody tr td.c-name")
    expect(names).to_have_text(["陈静", "赵敏", "张伟"])  # newest first

    page.get_by_label("排序方式").select_option(label="最近联系（由远及近）")
    page.get_by_role("button", name="查询").click()
    page.wait_for_url("**sort=contact_oldest**")
    expect(names).to_have_text(["赵敏", "陈静", "张伟"])
    expect(page.locator("td.c-date").last).to_have_text("从未联系")
    expect(page.get_by_test_id("total")).to_contain_text("从未联系的客户排在最后。")

    page.get_by_label("排序方式").select_option(label="最近联系（由近及远）")
    page.get_by_role("button", name="查询").click()
    page.wait_for_url("**sort=contact_recent**")
    expect(names).to_have_text(["陈静", "赵敏", "张伟"])
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"]
