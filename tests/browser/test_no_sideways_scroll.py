"""Every page a relationship manager, a branch manager and an admin can reach, in Chinese and
in English, at 375 px (a phone) and at 1440 px (a desk): none scrolls sideways."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from crm.extensions import db
from crm.models import Experience, GroupEvent, Policy
from crm.models.enums import PaymentMode, PlanOrigin, ProductType, Touchpoint
from tests.support.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.backends("sqlite")]

WIDTHS = (375, 1440)
LANGUAGES = ("zh-CN", "en-US")

EVERYONE = [
    "/today",
    "/customers",
    "/customers?sort=assets",
    "/customers/new",
    "/customers/{customer}",
    "/customers/{customer}/edit",
    "/customers/{customer}/policies/new",
    "/customers/{customer}/policies/{policy}/edit",
    "/customers/{customer}/experiences/new",
    "/customers/{customer}/complaints/new",
    "/experiences/{experience}/record",
    "/agenda",
    "/notifications",
    "/me/notifications",
    "/callbacks",
    "/complaints",
    "/events",
    "/events/new",
    "/events/{event}",
    "/events/{event}/guest-list",
    "/grid",
    "/customers?sort=contact_oldest",
    "/customers/{customer}?activity=edit#activity",
    "/occasions",
    "/prospects",
    "/prospects/new",
    "/opportunities",
    "/opportunities/new",
    "/pipeline",
    "/approvals",
]
MANAGERS = [
    "/followup",
    "/customers/import",
    "/customers/handover",
    "/team",
    "/dashboard",
    "/dashboard/ranking",
    "/experiments",
    "/experiments/new",
    "/pipeline/funnel",
    "/reports",
]
ADMINS = [
    "/admin/staff",
    "/admin/staff/new",
    "/admin/staff/{staff}/edit",
    "/admin/branches",
    "/admin/branches/new",
    "/admin/branches/{branch}/edit",
    "/admin/settings",
    "/admin/matrix",
    "/admin/api-tokens",
    "/admin/asset-tiers",
    "/admin/event-types",
    "/admin/churn-weights",
    "/admin/sms-templates",
    "/admin/sms-templates/new",
    "/admin/products",
    "/admin/products/new",
    "/pipeline/probabilities",
]
PAGES = {
    "alice": EVERYONE,
    "manager": EVERYONE + MANAGERS,
    "admin": EVERYONE + MANAGERS + ADMINS,
}

WIDER_THAN_THE_WINDOW = """() => {
  if (document.scrollingElement.scrollWidth <= innerWidth) return [];
  // The innermost elements past the window's right edge: what pushes the page wider.
  const past = [...document.querySelectorAll("body *")].filter(
    (e) => e.getBoundingClientRect().right > innerWidth + 0.5);
  return past
    .filter((e) => !past.some((other) => other !== e && e.contains(other)))
    .map((e) => e.tagName.toLowerCase()
      + (e.name ? "[name=" + e.name + "]" : "")
      + (e.type === "radio" ? "[type=radio]" : "")
      + (typeof e.className === "string" && e.className
        ? "." + e.className.split(" ").join(".") : ""));
}"""


@pytest.fixture
def things(world):
    """One of each object a page shows, for alice's customer in the east branch."""
    customer = world.alice_customer
    policy = Policy(
        customer=customer,
        policy_number="P2026000999",
        product_name="鑫享年金两全保险（分红型）",
        product_type=ProductType.ANNUITY,
        premium=Decimal("120000.00"),
        payment_mode=PaymentMode.REGULAR,
        start_date=date(2025, 1, 1),
    )
    event = GroupEvent(
        category=Touchpoint.EVENT,
        title="年末客户联谊会",
        held_on=date.today() + timedelta(days=20),
        place="城东支行三楼多功能厅",
        capacity=30,
        total_cost=Decimal("6000.00"),
        branch=world.east,
        organiser=world.alice,
    )
    experience = Experience(
        customer=customer,
        category=Touchpoint.VISIT,
        origin=PlanOrigin.STAFF,
        due_on=date.today() - timedelta(days=3),
        planned_cost=Decimal("0.00"),
    )
    db.session.add_all([policy, event, experience])
    db.session.commit()
    return {
        "customer": customer.id,
        "policy": policy.id,
        "event": event.id,
        "experience": experience.id,
        "staff": world.alice.id,
        "branch": world.east.id,
    }


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("username", list(PAGES))
def test_no_page_scrolls_sideways(things, live_server, browser, username, width):
    base, _ = live_server
    offenders: list[str] = []
    for language in LANGUAGES:
        context = browser.new_context(locale=language, viewport={"width": width, "height": 900})
        page = context.new_page()
        page.set_default_timeout(10_000)
        try:
            page.goto(f"{base}/login")
            page.locator('input[name="username"]').fill(username)
            page.locator('input[name="password"]').fill(PASSWORD)
            page.locator('button[type="submit"]').first.click()
            page.wait_for_load_state()
            # And whatever else the navigation offers this person (pages added since).
            offered = page.eval_on_selector_all(
                "header nav a[href]", "links => links.map((a) => a.getAttribute('href'))"
            )
            paths = [p.format(**things) for p in PAGES[username]]
            for path in paths + [p for p in offered if p not in paths]:
                response = page.goto(base + path)
                if response.status != 200:  # not a page this person can reach
                    continue
                offenders += [
                    f"{language} {path}: {c}" for c in page.evaluate(WIDER_THAN_THE_WINDOW)
                ]
        finally:
            context.close()
    assert offenders == []
