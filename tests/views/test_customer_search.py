"""The customer list's search box as staff use it: pinyin and initials, a policy number
going straight to its dossier, bad input answered with a page, a renamed dossier found by
its new spelling."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from crm.extensions import db
from crm.models import Policy
from crm.models.enums import PaymentMode, ProductType

FORM = {
    "name": "张伟",
    "phone": "",
    "gender": "male",
    "risk_level": "R2",
    "liquid_assets": "100000",
    "willingness": "40",
}


def page(auth, q: str) -> str:
    response = auth.client.get("/customers", query_string={"q": q})
    assert response.status_code == 200, q
    return response.get_data(as_text=True)


def test_pinyin_initials_and_both_mixed_find_customers(world, auth):
    auth.login("manager")
    for q in ("zhangwei", "Zhang Wei", "zw", "张w", "ｚｗ"):
        found = page(auth, q)
        assert "张伟" in found and "李娜" not in found, q
    assert "李娜" in page(auth, "lina") and "王芳" not in page(auth, "wangfang")


@pytest.fixture
def policy(world):
    db.session.add(
        Policy(
            customer=world.alice_customer,
            policy_number="P2026000123",
            product_name="鑫享年金",
            product_type=ProductType.ANNUITY,
            premium=Decimal("10000.00"),
            payment_mode=PaymentMode.REGULAR,
            start_date=date(2025, 1, 1),
        )
    )
    db.session.commit()


@pytest.mark.parametrize("username", ["alice", "manager", "admin"])
def test_a_policy_number_goes_straight_to_its_dossier(world, auth, policy, username):
    auth.login(username)
    response = auth.client.get("/customers", query_string={"q": "p2026000123", "quadrant": ""})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/customers/{world.alice_customer.id}#policies")
    assert 'id="policies"' in auth.client.get(response.headers["Location"]).get_data(True)


@pytest.mark.parametrize("username", ["bob", "carol"])
def test_a_policy_number_of_a_customer_one_may_not_see_is_just_no_match(auth, policy, username):
    auth.login(username)
    found = page(auth, "P2026000123")
    assert "张伟" not in found and "没有符合条件的客户" in found


def test_bad_searches_answer_with_a_page(world, auth):
    auth.login("alice")
    assert "最多 60 个字符" in page(auth, "张" * 200)
    for q in ("%", "_", "%_%", "'; --", "\x00", "\u202e张", "   "):
        page(auth, q)
    assert "张伟" in page(auth, "\x00")  # nothing left to search: the whole list


def test_a_name_revised_in_the_form_is_found_by_its_new_spelling(world, auth):
    auth.login("alice")
    customer = world.alice_customer
    data = FORM | {"name": "解晓东", "version": str(customer.version)}
    response = auth.client.post(f"/customers/{customer.id}/edit", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "解晓东" in page(auth, "xiexiaodong") and "解晓东" in page(auth, "xxd")
    assert "解晓东" not in page(auth, "zhangwei") and "解晓东" not in page(auth, "jie")
