"""Inviting to a private board (私董会) in a real browser, on a phone and on a desk: a customer
found by name, one outside the tiers the type suits (confirmed), a list by quadrant in one
step (the outside one confirmed), and a cancellation confirmed; no page scrolls sideways."""

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import Customer
from crm.models.enums import ExperienceStatus, MoveCause
from crm.services.customers import tiering
from crm.services.experiences import events, invitations
from tests.browser.test_dossier_flow import log_in
from tests.browser.test_no_sideways_scroll import WIDER_THAN_THE_WINDOW
from tests.support.factories import PASSWORD, make_customer

pytestmark = [pytest.mark.browser, pytest.mark.backends("sqlite")]


@pytest.fixture
def board(world):
    """Alice's pampered customers at ¥6,000,000 (the third tier), ¥1,200,000 and ¥1,500,000
    (the second), and a private board, which suits the third tier alone."""
    for name, phone, assets in (
        ("钱二", "+8613700000002", "6000000.00"),
        ("钱一", "+8613700000001", "1200000.00"),
        ("钱三", "+8613700000003", "1500000.00"),
    ):
        customer = make_customer(
            world.alice, name, phone, liquid_assets=Decimal(assets), willingness=80
        )
        db.session.flush()
        tiering.place(customer, MoveCause.DOSSIER_EDIT, None, first=True)
    event = events.create_event(
        world.manager,
        {
            "category": "premium_event",
            "event_type": "private_board",
            "title": "年末私董会",
            "held_on": local_today() + timedelta(days=10),
            "place": "城东支行贵宾室",
            "capacity": "6",
            "total_cost": "6000.00",
        },
    )
    db.session.commit()
    return event


def no_sideways_scroll(page):
    assert page.evaluate(WIDER_THAN_THE_WINDOW) == [], page.url


def find_and_invite(page, name):
    page.locator("#find").fill(name)
    page.get_by_role("button", name="查找", exact=True).click()
    page.get_by_test_id("found").get_by_role("button", name="邀请", exact=True).click()


@pytest.mark.parametrize("width", [375, 1440])
def test_invite_by_name_and_by_list_then_cancel(world, board, live_server, browser, width):
    base, _ = live_server
    context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    log_in(page, base, "alice")
    page.goto(f"{base}/events/{board.id}")
    assert "私董会" in page.get_by_test_id("event-type").inner_text()
    no_sideways_scroll(page)

    # By name: the third-tier customer is invited at once.
    find_and_invite(page, "钱二")
    assert "已邀请 钱二。" in page.locator("main").inner_text()

    # Outside the tiers: the page asks, and nothing is written until confirmed.
    find_and_invite(page, "钱一")
    question = page.get_by_test_id("outside-tiers")
    assert "不适合其资产层级" in question.inner_text()
    no_sideways_scroll(page)
    assert invitations.seats_taken(board) == 1
    question.get_by_role("button", name="仍然邀请").click()
    assert "已邀请 钱一。" in page.locator("main").inner_text()

    # A list by quadrant: previewed, the one outside the tiers confirmed, invited in one step.
    page.get_by_role("link", name="批量邀请：按客户分层、标签或资产层级").click()
    page.locator("select[name=quadrant]").select_option("pamper")
    page.get_by_role("button", name="预览").click()
    preview = page.get_by_test_id("guest-list")
    assert "符合条件：3 位 · 可邀请：1 位" in preview.inner_text()
    assert "钱三" in page.get_by_test_id("outside-tiers").inner_text()
    no_sideways_scroll(page)
    page.get_by_label("同时邀请不在适合层级内的 1 位客户").check()
    page.get_by_role("button", name="邀请 1 位客户").click()
    assert "已邀请 1 位客户" in page.locator("main").inner_text()
    assert invitations.seats_taken(board) == 3

    # Cancelling asks first.
    page.goto(f"{base}/events/{board.id}#guests")
    page.get_by_role("link", name="取消邀请").first.click()
    assert "名额将空出" in page.get_by_test_id("cancel-confirm").inner_text()
    no_sideways_scroll(page)
    page.get_by_role("button", name="确定取消邀请").click()
    assert "邀请已取消。" in page.locator("main").inner_text()
    statuses = [g.status for g in invitations.guests(board)]
    assert statuses.count(ExperienceStatus.CANCELLED) == 1
    context.close()


@pytest.mark.parametrize("width", [375, 1440])
def test_the_invitation_pages_fit_in_english(world, board, live_server, browser, width):
    base, _ = live_server
    context = browser.new_context(locale="en-US", viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{base}/login")
    page.locator('input[name="username"]').fill("alice")
    page.locator('input[name="password"]').fill(PASSWORD)
    page.locator('button[type="submit"]').first.click()
    page.wait_for_url(f"{base}/today")
    richest = db.session.scalar(sa.select(Customer).where(Customer.name == "钱二"))
    invitation = invitations.invite(world.alice, board, richest)
    db.session.commit()
    for path in (
        f"/events/{board.id}?find=qian",
        f"/events/{board.id}/guest-list?quadrant=pamper",
        f"/events/{board.id}/invitations/{invitation.id}/cancel",
    ):
        page.goto(base + path)
        assert "Private board" in page.locator("main").inner_text() or "Cancel" in (
            page.locator("main").inner_text()
        )
        no_sideways_scroll(page)
    context.close()
