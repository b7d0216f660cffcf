"""Pages at 375 px, the narrowest phone, in both languages: nothing pushes the page wider than
the screen (a wide table scrolls inside its own box), and a radio button sits beside its
label."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crm.core.clock import local_today
from crm.extensions import db
from crm.models.enums import MoveCause
from crm.services.customers import dossier, tiering
from crm.services.experiences import plans, recording
from tests.support.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.backends("sqlite")]  # nothing here is SQL

WIDE = "document.documentElement.scrollWidth - window.innerWidth"


@pytest.fixture
def phone(browser):
    def open_page(language: str):
        context = browser.new_context(
            locale="zh-CN" if language == "zh" else "en-US",
            viewport={"width": 375, "height": 812},
        )
        page = context.new_page()
        page.set_default_timeout(10_000)
        opened.append(context)
        return page

    opened = []
    yield open_page
    for context in opened:
        context.close()


def log_in(page, base, username, next_url):
    page.goto(f"{base}/login?next={next_url}")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("button[type=submit]").last.click()
    page.wait_for_url(f"{base}{next_url}")


@pytest.fixture
def with_history(world):
    """A dossier with a long history: edits with long values, a recorded visit, a move."""
    customer = world.alice_customer
    customer.sms_consent = True
    tiering.place(customer, MoveCause.IMPORT, None, first=True)
    customer.created_at -= timedelta(days=30)
    db.session.commit()
    for n in range(3):
        dossier.update_customer(
            world.alice,
            customer,
            {
                "name": customer.name,
                "gender": customer.gender.value,
                "risk_level": customer.risk_level.value,
                "willingness": customer.willingness,
                "liquid_assets": customer.liquid_assets,
                "occupation": f"某某集团华东区域财务共享服务中心高级经理{n}" * 2,
            },
            customer.version,
        )
        db.session.commit()
    visit = plans.add_experience(
        world.alice, customer, {"category": "visit", "due_on": local_today()}
    )
    db.session.commit()
    recording.record_experience(
        world.alice,
        visit,
        {
            "outcome": "done",
            "held_on": local_today(),
            "response": "positive",
            "liquid_assets": "1,500,000",
            "willingness": "",
        },
        visit.version,
        customer.version,
    )
    db.session.commit()
    return customer


@pytest.mark.parametrize("language", ["zh", "en"])
def test_no_page_is_wider_than_a_375_px_phone(world, with_history, live_server, phone, language):
    base, _ = live_server
    pages = {
        "alice": [f"/customers/{with_history.id}", "/customers", "/grid"],
        "manager": ["/customers/import", "/grid", "/customers"],
    }
    for who, urls in pages.items():
        page = phone(language)
        log_in(page, base, who, urls[0])
        for url in urls:
            page.goto(f"{base}{url}")
            assert page.evaluate(WIDE) <= 1, (language, who, url, page.evaluate(WIDE))
    # The history keeps its columns, scrolling within its own box.
    page = phone(language)
    log_in(page, base, "alice", f"/customers/{with_history.id}")
    scrolls = "getComputedStyle(document.querySelector('table.history').parentElement).overflowX"
    assert page.evaluate(scrolls) == "auto"


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_import_choice_sits_beside_its_label(world, live_server, phone, language):
    base, _ = live_server
    page = phone(language)
    log_in(page, base, "manager", "/customers/import")
    for radio in page.locator("input[type=radio]").all():
        label = radio.locator("xpath=..")
        r, box = radio.bounding_box(), label.bounding_box()
        assert r["width"] < 40, r  # a radio button, not a full-width bar
        # On the label's line, to the left of its text.
        assert box["y"] - 2 <= r["y"] and r["y"] + r["height"] <= box["y"] + box["height"] + 2
