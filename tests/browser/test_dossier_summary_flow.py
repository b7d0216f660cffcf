"""The dossier on a phone and on a desk, in a real browser: the summary header, the index of
its sections (by click and by keyboard), the activity filtered by kind, and the record form
previewing the quadrant as the revision is typed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import Experience, OutboxMessage
from crm.models.enums import (
    ExperienceStatus,
    MessagePurpose,
    OutboxStatus,
    PlanOrigin,
    Response,
    Touchpoint,
)
from tests.support.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.backends("sqlite")]

WORDS = {
    "zh-CN": {
        "quadrant": "开发",
        "last": "积极",
        "activity": "客户动态",
        "history": "修改记录",
        "sms": "短信",
        "stays": "按此次修正，客户仍属开发。",
        "richer": "按此次修正，客户将从开发移入耕耘。",
        "both": "按此次修正，客户将从开发移入宠爱。",
    },
    "en-US": {
        "quadrant": "Develop",
        "last": "Positive",
        "activity": "Activity",
        "history": "Change history",
        "sms": "SMS",
        "stays": "With this revision the customer stays in Develop.",
        "richer": "With this revision the customer moves from Develop to Cultivate.",
        "both": "With this revision the customer moves from Develop to Pamper.",
    },
}


@pytest.fixture
def visited(world):
    """Alice's customer (¥100,000, willingness 40: develop) with a visit held, an SMS sent,
    and a visit due today to record."""
    customer = world.alice_customer
    today = local_today()
    db.session.add(
        Experience(
            customer=customer,
            category=Touchpoint.VISIT,
            status=ExperienceStatus.DONE,
            origin=PlanOrigin.STAFF,
            due_on=today - timedelta(days=4),
            held_on=today - timedelta(days=4),
            planned_cost=Decimal("80.00"),
            response=Response.POSITIVE,
        )
    )
    db.session.add(
        OutboxMessage(
            idempotency_key="test:sms:1",
            purpose=MessagePurpose.MARKETING,
            customer=customer,
            recipient=customer.phone,
            body="【银保服务】年末理财讲座邀请，拒收请回复R",
            status=OutboxStatus.SENT,
            sent_at=datetime.now(UTC) - timedelta(days=1),
        )
    )
    due = Experience(
        customer=customer,
        category=Touchpoint.VISIT,
        origin=PlanOrigin.STAFF,
        due_on=today,
        planned_cost=Decimal("80.00"),
    )
    db.session.add(due)
    db.session.commit()
    return due


@pytest.mark.parametrize("language", list(WORDS))
@pytest.mark.parametrize("width", [375, 1440])
def test_summary_index_activity_and_preview(world, visited, live_server, browser, language, width):
    base, _ = live_server
    words = WORDS[language]
    context = browser.new_context(locale=language, viewport={"width": width, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(f"{base}/login")
        page.locator('input[name="username"]').fill("alice")
        page.locator('input[name="password"]').fill(PASSWORD)
        page.locator('button[type="submit"]').first.click()
        page.wait_for_url(f"{base}/today")

        dossier = f"{base}/customers/{world.alice_customer.id}"
        page.goto(dossier)
        # The summary is on the first screen, whole.
        expect(page.get_by_test_id("summary")).to_be_in_viewport(ratio=1)
        expect(page.get_by_test_id("summary-quadrant")).to_have_text(words["quadrant"])
        expect(page.get_by_test_id("summary-last-contact")).to_contain_text(words["last"])
        assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")

        # The index: one click to the activity; from the keyboard, to the change history.
        index = page.get_by_test_id("dossier-index")
        index.get_by_role("link", name=words["activity"]).click()
        page.wait_for_url("**#activity")
        expect(page.locator("#activity h2")).to_be_in_viewport()
        index.get_by_role("link", name=words["history"]).focus()
        page.keyboard.press("Enter")
        page.wait_for_url("**#history")
        expect(page.locator("#history h2")).to_be_in_viewport()
        if width >= 1024:  # on a desk the index stays in view
            expect(index).to_be_in_viewport()

        # The activity of one kind, by a plain link.
        kinds = page.get_by_test_id("activity-kinds")
        expect(page.locator('[data-testid="activity"] li')).to_have_count(2)
        kinds.get_by_role("link", name=words["sms"], exact=True).click()
        page.wait_for_url("**activity=sms#activity")
        expect(page.locator('[data-testid="activity"] li')).to_have_count(1)
        expect(page.locator('[data-testid="activity"] li[data-kind="sms"]')).to_have_count(1)

        # The record form: the quadrant the customer will land in, as it is typed.
        page.goto(f"{base}/experiences/{visited.id}/record")
        preview = page.get_by_test_id("quadrant-preview")
        expect(preview).to_have_text(words["stays"])
        page.locator('input[name="liquid_assets"]').fill("1,500,000")
        expect(preview).to_have_text(words["richer"])
        page.locator('input[name="willingness"]').fill("75")
        expect(preview).to_have_text(words["both"])
        page.locator('input[name="liquid_assets"]').fill("999999.99")
        page.locator('input[name="willingness"]').fill("")
        expect(preview).to_have_text(words["stays"])
        assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")

        # The server agrees when the record is saved.
        page.locator('input[name="liquid_assets"]').fill("1500000")
        page.locator('input[name="willingness"]').fill("75")
        page.locator('select[name="response"]').select_option("positive")
        page.locator('form[data-quadrant-preview] button[type="submit"]').click()
        page.wait_for_url(f"{dossier}*")
        expect(page.get_by_test_id("summary-quadrant")).to_have_text(
            {"zh-CN": "宠爱", "en-US": "Pamper"}[language]
        )
    finally:
        context.close()
