"""A day's maturity call-backs in a real browser: open the list, record two one after another,
and watch the quota's progress rise while the recorded ones leave the list."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import MaturityCallback, Policy
from crm.models.enums import CallbackIntent, PaymentMode, PolicyStatus, ProductType
from crm.services.followup import calls
from tests.browser.test_dossier_flow import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def four_calls(world):
    """Four of Alice's policies mature next month (the 9th, 2nd, 23rd and 16th)."""
    first = (local_today().replace(day=1) + timedelta(days=32)).replace(day=1)
    for number, day in enumerate((9, 2, 23, 16), start=1):
        db.session.add(
            Policy(
                customer=world.alice_customer,
                policy_number=f"BX2019{number:04d}",
                product_name="鑫享两全保险（分红型）",
                product_type=ProductType.PARTICIPATING,
                premium=Decimal("50000.00"),
                payment_mode=PaymentMode.SINGLE,
                start_date=date(2019, 1, 1),
                maturity_date=first.replace(day=day),
                status=PolicyStatus.IN_FORCE,
            )
        )
    db.session.commit()
    calls.maturity_scan()
    db.session.commit()
    return [c.id for c in calls.day_of_callbacks(world.alice).open]


def progress(page) -> tuple[int, int]:
    done, quota = re.search(
        r"(\d+)\s*/\s*(\d+)", page.get_by_test_id("progress").inner_text()
    ).groups()
    return int(done), int(quota)


def listed(page) -> list[int]:
    rows = page.locator("tr[data-callback]")
    return [int(rows.nth(i).get_attribute("data-callback")) for i in range(rows.count())]


def record_first(page, base, intent: str, note: str) -> int:
    row = page.locator("tr[data-callback]").first
    callback_id = int(row.get_attribute("data-callback"))
    row.locator("a.button").click()
    page.wait_for_url(f"{base}/callbacks/{callback_id}/record")
    page.locator("select[name=intent]").select_option(intent)
    page.locator("textarea[name=maturity_note]").fill("满期金约5.6万元")
    page.locator("textarea[name=remarks]").fill(note)
    page.locator("form.grid button.primary").click()
    page.wait_for_url(f"{base}/callbacks")
    return callback_id


def test_work_through_the_days_call_backs(world, four_calls, live_server, page):
    base, _ = live_server
    log_in(page, base, "alice")
    page.locator("header nav a[href='/callbacks']").click()
    page.wait_for_url(f"{base}/callbacks")
    assert listed(page) == four_calls  # earliest maturity first: the 2nd, 9th, 16th, 23rd
    assert progress(page) == (0, 20)
    assert page.locator("progress.quota").get_attribute("value") == "0"
    assert "138****1111" in page.get_by_test_id("callbacks").inner_text()

    first = record_first(page, base, "renew", "客户同意续保")
    assert "BX20190002" in page.locator(".flash.success").inner_text()
    assert progress(page) == (1, 20)
    assert listed(page) == four_calls[1:]

    second = record_first(page, base, "deposit", "到期转定期存款")
    assert (first, second) == tuple(four_calls[:2])
    assert "BX20190001" in page.locator(".flash.success").inner_text()
    assert progress(page) == (2, 20)
    assert page.locator("progress.quota").get_attribute("value") == "2"
    assert listed(page) == four_calls[2:]

    db.session.expire_all()
    intents = [db.session.get(MaturityCallback, i).intent for i in (first, second)]
    assert intents == [CallbackIntent.RENEW, CallbackIntent.DEPOSIT]


def test_the_call_back_list_fits_a_phone(world, four_calls, live_server, browser):
    base, _ = live_server
    context = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 740})
    phone = context.new_page()
    try:
        log_in(phone, base, "alice")
        phone.goto(f"{base}/callbacks")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 375
        assert phone.locator("progress.quota").is_visible()
        assert phone.locator("tr[data-callback] a.button").first.is_visible()
    finally:
        context.close()
