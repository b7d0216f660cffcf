"""The customer list page sorted by last contact and by next planned experience: the menu
offers both ways of each, the rows show the date (or that there is none), the page says
where customers without one come, and the pages go on in the order, past the last dated
customer too."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import Experience
from crm.models.enums import ExperienceStatus, PlanOrigin, Touchpoint
from crm.services.planning import contact_dates
from tests.views.test_customer_list_page import names_in_order

EVERYONE = ["张伟", "李娜", "王芳"]


def held(customer, days_ago: int, status=ExperienceStatus.DONE) -> None:
    day = local_today() - timedelta(days=days_ago)
    db.session.add(
        Experience(
            customer=customer,
            category=Touchpoint.VISIT,
            status=status,
            origin=PlanOrigin.STAFF,
            due_on=day,
            held_on=day if status != ExperienceStatus.PLANNED else None,
            planned_cost=Decimal("100.00"),
            version=1,
        )
    )


@pytest.fixture
def contacted(world):
    """李娜 seen ten days ago, 王芳 three days ago, 张伟 never; 张伟 has a visit planned."""
    held(world.bob_customer, 10)
    held(world.carol_customer, 3)
    held(world.alice_customer, -5, ExperienceStatus.PLANNED)
    db.session.flush()
    contact_dates.refresh(
        c.id for c in (world.alice_customer, world.bob_customer, world.carol_customer)
    )
    db.session.commit()
    return world


def test_sorting_by_last_contact_changes_the_order_both_ways(contacted, auth):
    auth.login("admin")
    recent = auth.client.get("/customers?sort=contact_recent").get_data(True)
    assert names_in_order(recent, EVERYONE) == ["王芳", "李娜", "张伟"]
    assert '<option value="contact_recent" selected>' in recent
    assert "最近联系（由近及远）" in recent and "最近联系（由远及近）" in recent
    assert "从未联系的客户排在最后。" in recent and "从未联系</td>" in recent
    oldest = auth.client.get("/customers?sort=contact_oldest").get_data(True)
    assert names_in_order(oldest, EVERYONE) == ["李娜", "王芳", "张伟"]


def test_sorting_by_next_planned_experience_in_english(contacted, auth):
    auth.login("admin")
    auth.client.post("/language", data={"language": "en"})
    page = auth.client.get("/customers?sort=planned_soonest").get_data(True)
    assert names_in_order(page, EVERYONE)[0] == "张伟"
    assert "Next planned experience, soonest first" in page
    assert "Customers with nothing planned come last." in page
    assert "Nothing planned</td>" in page
    assert "最近联系" not in page


def test_the_pages_go_on_past_the_last_dated_customer(contacted, auth, app):
    app.config["CRM_PAGE_SIZE"] = 1
    auth.login("admin")
    seen, url = [], "/customers?sort=contact_recent"
    while url:
        html = auth.client.get(url).get_data(True)
        seen += names_in_order(html, EVERYONE)
        url = (
            html.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
            if 'rel="next"' in html
            else None
        )
    assert seen == ["王芳", "李娜", "张伟"]
    back = auth.client.get(f"/customers?sort=contact_recent&after={contacted.alice_customer.id}:-")
    assert names_in_order(back.get_data(True), EVERYONE) == ["李娜"]
