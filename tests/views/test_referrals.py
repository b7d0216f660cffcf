"""Referrals on the dossier (转介绍: cycles refused, the chain both ways, another branch's
referrer unnamed), suitability (适当性) on the policy and experience forms, and the acquisition
channel on the customer list and the grid."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import Customer, Experience, Policy, Product
from crm.models.enums import Channel, MoveCause, ProductType
from crm.services.customers import tiering
from crm.services.experiences import plans
from tests.support.factories import make_customer
from tests.support.pages import EN, count, text_of

# Pages, forms and messages over domain code that tests/services runs on both databases;
# nothing here depends on the dialect, so SQLite is enough.
pytestmark = pytest.mark.backends("sqlite")


def product(name: str) -> Product:
    return db.session.scalars(sa.select(Product).where(Product.name == name)).one()


def dossier_form(customer: Customer, **changes) -> dict:
    data = {
        "name": customer.name,
        "phone": "",
        "gender": "unspecified",
        "risk_level": customer.risk_level.value,
        "liquid_assets": str(customer.liquid_assets),
        "willingness": str(customer.willingness),
        "channel": customer.channel.value if customer.channel else "",
        "owner_id": str(customer.owner_id),
        "branch_id": str(customer.branch_id),
        "version": str(customer.version),
    }
    return data | changes


def test_a_referral_cycle_is_refused_and_the_chain_shows_both_ways(world, auth):
    a = world.alice_customer
    b = make_customer(world.alice, "周杰", "+8613700004444", referred_by=a)
    c = make_customer(world.alice, "吴敏", "+8613700005555", referred_by=b)
    db.session.commit()
    auth.login("alice")
    response = auth.client.post(
        f"/customers/{a.id}/edit", data=dossier_form(a, referred_by_id=str(c.id)), headers=EN
    )
    assert "cannot go round in a circle" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Customer, a.id).referred_by_id is None

    chain = auth.client.get(f"/customers/{b.id}", headers=EN).get_data(as_text=True)
    referrals = text_of(chain.split('data-testid="referrals"', 1)[1].split("</div>", 1)[0])
    assert "Referred by: 张伟" in referrals and "Brought in: ↳ 吴敏" in referrals
    top = auth.client.get(f"/customers/{a.id}", headers=EN).get_data(as_text=True)
    assert "(2 steps down)" in top and "吴敏" in top


def test_a_referrer_of_another_branch_appears_without_a_name(world, auth):
    world.alice_customer.referred_by = world.carol_customer
    db.session.commit()
    auth.login("manager")
    page = auth.client.get(f"/customers/{world.alice_customer.id}", headers=EN)
    text = page.get_data(as_text=True)
    assert "a customer of another branch" in text and "王芳" not in text


def policy_form(**changes) -> dict:
    return {
        "policy_number": "BX2024009",
        "product_id": "",
        "product_name": "",
        "product_type": "participating",
        "premium": "100000",
        "payment_mode": "single",
        "start_date": "2024-01-01",
        "maturity_date": "2029-01-01",
        "status": "in_force",
    } | changes


def test_a_sale_above_the_risk_level_is_refused_through_the_policy_form(world, auth):
    customer = world.alice_customer  # R1
    url = f"/customers/{customer.id}/policies/new"
    auth.login("alice")
    form = auth.client.get(url, headers=EN).get_data(as_text=True)
    assert "投资连结保险" in form and "R1 conservative" in form
    refused = auth.client.post(
        url, data=policy_form(product_id=str(product("投资连结保险").id)), headers=EN
    )
    page = refused.get_data(as_text=True)
    assert "rated R4, above the customer's risk level R1" in html.unescape(page)
    by_type = auth.client.post(
        url, data=policy_form(product_name="某万能险", product_type="universal")
    )
    assert by_type.status_code == 200  # refused: universal life is R3 by its type
    assert count(Policy) == 0

    sold = auth.client.post(url, data=policy_form(product_id=str(product("意外伤害保险").id)))
    assert sold.status_code == 302
    saved = db.session.scalars(sa.select(Policy)).one()
    assert saved.product_name == "意外伤害保险" and saved.product_type == ProductType.ACCIDENT


def test_an_experience_recommending_an_unsuitable_product_is_refused(world, auth):
    experience = plans.add_experience(
        world.alice, world.alice_customer, {"category": "visit", "due_on": local_today()}
    )
    db.session.commit()
    auth.login("alice")
    data = {
        "outcome": "done",
        "held_on": local_today().isoformat(),
        "response": "positive",
        "product_id": str(product("万能型终身寿险").id),
        "version": str(experience.version),
        "customer_version": str(world.alice_customer.version),
    }
    refused = auth.client.post(f"/experiences/{experience.id}/record", data=data, headers=EN)
    assert "rated R3, above the customer's risk level R1" in html.unescape(
        refused.get_data(as_text=True)
    )
    db.session.expire_all()
    assert db.session.get(Experience, experience.id).recorded_at is None
    ok = auth.client.post(
        f"/experiences/{experience.id}/record",
        data=data | {"product_id": str(product("重大疾病保险").id)},
    )
    assert ok.status_code == 302
    db.session.expire_all()
    assert db.session.get(Experience, experience.id).product.name == "重大疾病保险"


def test_the_customer_list_filters_by_channel(world, auth):
    world.alice_customer.channel = Channel.REFERRAL
    world.bob_customer.channel = Channel.COLD_VISIT
    db.session.commit()
    auth.login("manager")
    page = auth.client.get("/customers?channel=referral", headers=EN).get_data(as_text=True)
    assert "张伟" in page and "李娜" not in page
    assert '<option value="referral" selected>Referral</option>' in page
    everyone = auth.client.get("/customers?channel=nonsense").get_data(as_text=True)
    assert "张伟" in everyone and "李娜" in everyone


def test_the_grid_splits_customers_by_channel(world, auth):
    extra = make_customer(world.alice, "钱多", "+8613700006666", willingness=80)
    world.alice_customer.channel = Channel.REFERRAL
    extra.channel = Channel.REFERRAL
    world.bob_customer.channel = Channel.EVENT
    for c in (world.alice_customer, extra, world.bob_customer):
        tiering.place(c, MoveCause.IMPORT, None, first=True)
    db.session.commit()
    auth.login("manager")
    page = auth.client.get("/grid", headers=EN).get_data(as_text=True)
    split = page.split('data-testid="channel-split"', 1)[1]
    referral = split.split('data-channel="referral"', 1)[1].split("</tr>", 1)[0]
    assert re.search(r'data-quadrant="develop">.*?>1</a>', referral)
    assert re.search(r'data-quadrant="maintain">.*?>1</a>', referral)
    assert text_of(referral).endswith("2")
    assert 'data-channel="event"' in split and "王芳" not in page

    only_events = auth.client.get("/grid?channel=event", headers=EN).get_data(as_text=True)
    assert 'data-channel="referral"' not in only_events
    link = re.search(r'href="([^"]*quadrant=develop[^"]*)"', only_events)[1]
    assert "channel=event" in link.replace("&amp;", "&")
