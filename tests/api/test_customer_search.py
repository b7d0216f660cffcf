"""The API's customer list searches as the list page does (``crm.services.customers.search``),
and a name revised over the API is found by its new spelling at once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from crm.extensions import db
from crm.models import Policy
from crm.models.enums import PaymentMode, ProductType

CUSTOMERS = "/api/v1/customers"


def names(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [c["name"] for c in response.get_json()["items"]]


def test_the_list_q_finds_by_pinyin_initials_phone_tail_and_policy_number(world, api_as):
    db.session.add(
        Policy(
            customer=world.bob_customer,
            policy_number="P2026000777",
            product_name="鑫享年金",
            product_type=ProductType.ANNUITY,
            premium=Decimal("10000.00"),
            payment_mode=PaymentMode.REGULAR,
            start_date=date(2025, 1, 1),
        )
    )
    db.session.commit()
    manager = api_as(world.manager)
    search = lambda q: names(manager.get(CUSTOMERS, query_string={"q": q}))  # noqa: E731
    assert search("zhangwei") == ["张伟"]
    assert search("zhang wei") == ["张伟"]
    assert search("ln") == ["李娜"]
    assert search("张w") == ["张伟"]
    assert search("111") == ["张伟"]
    assert search("P2026000777") == ["李娜"]
    assert search("wangfang") == []  # carol's customer, in another branch
    assert search("%") == [] and search("x" * 200) == []


def test_a_name_revised_over_the_api_is_found_by_its_new_spelling(world, api_as):
    alice = api_as(world.alice)
    url = f"{CUSTOMERS}/{world.alice_customer.id}"
    version = world.alice_customer.version
    response = alice.patch(url, json={"name": "曾小明", "version": version})
    assert response.status_code == 200, response.get_json()
    assert names(alice.get(CUSTOMERS, query_string={"q": "zengxiaoming"})) == ["曾小明"]
    assert names(alice.get(CUSTOMERS, query_string={"q": "zxm"})) == ["曾小明"]
    assert names(alice.get(CUSTOMERS, query_string={"q": "zhangwei"})) == []

    created = alice.post(CUSTOMERS, json={"name": "单雄信", "phone": "13512345678"})
    assert created.status_code == 201, created.get_json()
    assert names(alice.get(CUSTOMERS, query_string={"q": "shanxiongxin"})) == ["单雄信"]
