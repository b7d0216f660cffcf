"""What a user types into a date, a time or an amount: a date outside the app's calendar is
refused with a message on every form, filter and API field (never a 500), a date means what
its field means (no policy maturing in 9999), an amount reads as people write it and comes
back as typed when refused."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from flask_babel import force_locale

from crm.core.clock import local_today
from crm.core.inputs import InvalidInput, latest_date
from crm.extensions import db
from crm.models import Complaint, Customer, Policy
from crm.models.enums import RiskLevel
from crm.services.customers import policies
from crm.services.followup import complaints
from tests.support.pages import EN, count, text_of

pytestmark = pytest.mark.backends("sqlite")

ZH = {"Accept-Language": "zh-CN"}
CUSTOMER = {
    "name": "赵磊",
    "phone": "135 1234 5678",
    "gender": "male",
    "risk_level": "R2",
    "liquid_assets": "1200000.50",
    "willingness": "55",
}
POLICY = {
    "policy_number": "BX2021001",
    "product_name": "鑫享两全保险（分红型）",
    "product_type": "participating",
    # Seed 000's compliance record, which a participating policy's sale needs.
    "dual_recording_ref": "SL-2021-000123",
    "returns_notice_shown": "y",
    "risk_acknowledged": "y",
    "premium": "50000",
    "payment_mode": "single",
    "start_date": "2021-03-01",
    "maturity_date": "2031-03-01",
    "status": "in_force",
}


def value_of(page: str, name: str) -> str:
    return html.unescape(re.search(rf'name="{name}"[^>]*value="([^"]*)"', page)[1])


# --- dates and times outside the calendar -------------------------------------------------


def test_a_follow_up_period_at_the_ends_of_the_calendar_is_refused_not_a_500(world, auth):
    auth.login("manager")
    for period in ("from=0001-01-01&to=9999-12-31", "from=1899-12-31", "to=9999-12-31"):
        response = auth.client.get(f"/followup?{period}", headers=EN)
        assert response.status_code == 400, period
        assert "Enter dates as YYYY-MM-DD from 1900-01-01 to" in text_of(
            response.get_data(as_text=True)
        )
    assert auth.client.get("/followup?from=2026-01-01&to=2026-01-31").status_code == 200


def test_a_complaint_received_in_year_one_is_refused_with_a_message(world, auth):
    auth.login("alice")
    customer = world.alice_customer
    for when in ("0001-01-01T00:00", "9999-12-31T23:59"):
        response = auth.client.post(
            f"/customers/{customer.id}/complaints/new",
            data={"point": "满期金到账晚了三天", "opened_at": when},
            headers=ZH,
        )
        assert response.status_code == 422, when
        assert "请输入 1900-01-01 至" in text_of(response.get_data(as_text=True))
    assert count(Complaint) == 0


def test_every_date_on_the_dossier_form_is_bounded(world, auth):
    auth.login("alice")
    for field in ("birth_date", "assets_as_of"):
        response = auth.client.post(
            "/customers/new", data=CUSTOMER | {field: "0001-01-01"}, headers=EN
        )
        assert response.status_code != 302, field
        assert "Enter a date from 1900-01-01 to" in response.get_data(as_text=True), field
    assert count(Customer) == 3  # the world's, nothing new


def test_a_policy_maturing_in_9999_is_refused(world, auth):
    auth.login("alice")
    cid = world.alice_customer.id
    world.alice_customer.risk_level = RiskLevel.R2
    db.session.commit()
    beyond_a_century = (latest_date() + timedelta(days=1)).isoformat()
    for maturity in ("9999-12-31", beyond_a_century):
        refused = auth.client.post(
            f"/customers/{cid}/policies/new",
            data=POLICY | {"maturity_date": maturity},
            headers=EN,
        )
        assert "Enter a date from 1900-01-01 to" in refused.get_data(as_text=True), maturity
    assert count(Policy) == 0
    in_99_years = local_today().replace(year=local_today().year + 99)
    saved = auth.client.post(
        f"/customers/{cid}/policies/new",
        data=POLICY | {"maturity_date": in_99_years.isoformat()},
    )
    assert saved.status_code == 302
    assert count(Policy) == 1


def test_the_policy_rule_itself_refuses_a_maturity_beyond_a_century(world, app):
    """The domain says it too, for callers that bring a date object (the API, imports)."""
    customer = world.alice_customer
    customer.risk_level = RiskLevel.R2
    data = POLICY | {"start_date": local_today(), "maturity_date": latest_date() + timedelta(1)}
    with pytest.raises(InvalidInput) as refused:
        policies.add_policy(world.alice, customer, data)
    with force_locale("en"):
        assert str(refused.value.errors["maturity_date"]) == (
            "The maturity date is more than a hundred years ahead; check the year."
        )
    db.session.rollback()


# --- amounts -------------------------------------------------------------------------------


def test_an_amount_with_thousands_separators_is_accepted(world, auth):
    auth.login("alice")
    response = auth.client.post(
        "/customers/new", data=CUSTOMER | {"liquid_assets": "1,200,000"}, headers=ZH
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert str(db.session.query(Customer).filter_by(name="赵磊").one().liquid_assets) == (
        "1200000.00"
    )


@pytest.mark.parametrize("typed", ["abc", "1,20,000", "1e6"])
def test_a_refused_amount_comes_back_as_typed_saying_what_is_expected(world, auth, typed):
    auth.login("alice")
    response = auth.client.post(
        "/customers/new", data=CUSTOMER | {"liquid_assets": typed}, headers=ZH
    )
    page = response.get_data(as_text=True)
    assert response.status_code != 302
    assert value_of(page, "liquid_assets") == typed
    assert "请输入金额，如 250000.00。" in page
    assert "不是有效的小数" not in page
    assert count(Customer) == 3


def test_every_amount_field_reads_thousands_separators(world, auth):
    """The policy's premium, like the dossier's assets."""
    auth.login("alice")
    world.alice_customer.risk_level = RiskLevel.R2
    db.session.commit()
    saved = auth.client.post(
        f"/customers/{world.alice_customer.id}/policies/new",
        data=POLICY | {"premium": "1,250,000.00"},
    )
    assert saved.status_code == 302
    db.session.expire_all()
    assert str(db.session.query(Policy).one().premium) == "1250000.00"


# --- the shelf as the policy form offers it -------------------------------------------------


def options(page: str, name: str) -> list[tuple[str, bool]]:
    """A select's options as (text, disabled)."""
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)[1]
    return [
        (html.unescape(text).strip(), "disabled" in attrs)
        for attrs, text in re.findall(r"<option([^>]*)>([^<]*)</option>", select)
    ]


def test_the_policy_form_offers_only_suitable_products_and_says_why_not_the_others(world, auth):
    world.alice_customer.risk_level = RiskLevel.R1
    db.session.commit()
    auth.login("alice")
    page = auth.client.get(
        f"/customers/{world.alice_customer.id}/policies/new", headers=ZH
    ).get_data(as_text=True)
    offered = options(page, "product_id")[1:]
    choosable = [text for text, disabled in offered if not disabled]
    shut = [text for text, disabled in offered if disabled]
    assert choosable and shut
    assert all(text.endswith(" · R1") for text in choosable)
    assert all("（不适合：高于客户的风险等级 R1）" in text for text in shut)
    # A policy named without a shelf product is rated by its type: the same offer.
    types = options(page, "product_type")
    assert any(not disabled for _text, disabled in types)
    assert any(disabled and "（不适合：" in text for text, disabled in types)


def test_every_other_date_and_time_form_is_bounded_too(world, auth):
    """The plan, the group event and the answer to a complaint, as the dossier and the policy."""
    customer = world.alice_customer
    complaint = complaints.open_complaint(world.alice, customer, {"point": "满期金到账晚了三天"})
    db.session.commit()
    auth.login("alice")
    posts = {
        f"/customers/{customer.id}/experiences/new": {"category": "visit", "due_on": "0001-01-01"},
        "/events/new": {"category": "event", "title": "理财沙龙", "held_on": "9999-12-31"},
        f"/complaints/{complaint.id}/answer": {
            "handling_opinion": "已致歉",
            "answered_at": "0001-01-01T00:00",
            "version": str(complaint.version),
        },
    }
    for url, data in posts.items():
        response = auth.client.post(url, data=data, headers=EN)
        assert response.status_code in (200, 422), url
        assert "Enter a date from 1900-01-01 to" in response.get_data(as_text=True), url
