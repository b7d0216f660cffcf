"""The customer list page as staff see it: how many customers it holds, the sort menu and its
column headers, bad sorts and cursors answered with the first page; and the header's search
box, straight to a dossier when one customer matches."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from crm.extensions import db
from crm.models import Policy
from crm.models.enums import PaymentMode, ProductType
from crm.services.customers import customer_list
from tests.support.factories import make_customer


def names_in_order(html: str, names: list[str]) -> list[str]:
    return sorted((n for n in names if n in html), key=html.index)


@pytest.fixture
def rich(world):
    world.carol_customer.liquid_assets = Decimal("3000000.00")
    world.alice_customer.liquid_assets = Decimal("50000.00")
    world.bob_customer.liquid_assets = Decimal("800000.00")
    db.session.commit()
    return world


def test_the_list_says_how_many_customers_it_holds(world, auth):
    auth.login("admin")
    assert "共 3 位客户" in auth.client.get("/customers").get_data(True)
    assert "共 1 位客户" in auth.client.get("/customers?q=王").get_data(True)
    auth.client.post("/language", data={"language": "en"})
    assert "1 customer<" in auth.client.get("/customers?q=王").get_data(True)
    assert "3 customers<" in auth.client.get("/customers").get_data(True)


def test_sorting_by_each_column_changes_the_order(rich, auth):
    auth.login("admin")
    everyone = ["张伟", "李娜", "王芳"]
    newest = auth.client.get("/customers").get_data(True)
    assert names_in_order(newest, everyone) == ["王芳", "李娜", "张伟"]
    by_name = auth.client.get("/customers?sort=name").get_data(True)
    assert names_in_order(by_name, everyone) == ["李娜", "王芳", "张伟"]  # li, wang, zhang
    assert 'aria-sort="ascending"' in by_name
    by_assets = auth.client.get("/customers?sort=assets").get_data(True)
    assert names_in_order(by_assets, everyone) == ["王芳", "李娜", "张伟"]
    assert '<option value="assets" selected>' in by_assets


def test_the_next_page_of_a_sorted_list_goes_on_in_its_order(rich, auth, app):
    app.config["CRM_PAGE_SIZE"] = 2
    auth.login("admin")
    first = auth.client.get("/customers?sort=assets").get_data(True)
    assert names_in_order(first, ["张伟", "李娜", "王芳"]) == ["王芳", "李娜"]
    assert "下一页" in first
    href = first.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    second = auth.client.get(href).get_data(True)
    assert names_in_order(second, ["张伟", "李娜", "王芳"]) == ["张伟"]
    assert "上一页" in second and "共 3 位客户" in second


@pytest.mark.parametrize(
    "query",
    [
        "sort=bogus",
        "sort=assets&before=abc",
        "sort=assets&before=1:1e999999",
        "sort=assets&after=99999999999999999999999:5",
        "sort=willingness&before=1:-3",
        "sort=name&after=",
        "before=1:zhang",
        "after=%00",
    ],
)
def test_a_bad_sort_or_cursor_is_the_first_page_not_an_error(world, auth, query):
    auth.login("admin")
    response = auth.client.get(f"/customers?{query}")
    assert response.status_code == 200
    assert "共 3 位客户" in response.get_data(True)


@pytest.mark.parametrize(
    "query",
    ["sort=name&before=1:%ED%A0%80", "sort=name&after=1:" + "z" * 5000, "sort=%00&q=%ED%A0%80"],
)
def test_odd_cursors_and_searches_answer_with_a_page(world, auth, query):
    auth.login("admin")
    response = auth.client.get(f"/customers?{query}")
    assert (
        response.status_code == 200
        and "<table" in response.get_data(True)
        or ("没有符合条件的客户" in response.get_data(True))
    )


def test_the_header_search_is_on_every_page(world, auth):
    auth.login("alice")
    for path in (
        "/customers",
        "/agenda",
        "/notifications",
        f"/customers/{world.alice_customer.id}",
    ):
        html = auth.client.get(path).get_data(True)
        assert 'action="/customers/find"' in html and "查找客户" in html, path


@pytest.mark.parametrize("q", ["张", "张伟", "zhangw", "zw", "1111", "138 0000 1111", "１１１１"])
def test_one_match_goes_straight_to_the_dossier(world, auth, q):
    auth.login("alice")
    response = auth.client.get("/customers/find", query_string={"q": q})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/customers/{world.alice_customer.id}"


def test_a_policy_number_goes_to_its_dossier(world, auth):
    db.session.add(
        Policy(
            customer=world.alice_customer,
            policy_number="P2026000777",
            product_name="鑫享年金",
            product_type=ProductType.ANNUITY,
            premium=Decimal("10000.00"),
            payment_mode=PaymentMode.REGULAR,
            start_date=date(2025, 1, 1),
        )
    )
    db.session.commit()
    auth.login("manager")
    response = auth.client.get("/customers/find?q=p2026000777")
    assert response.headers["Location"] == f"/customers/{world.alice_customer.id}#policies"


def test_several_or_no_matches_go_to_the_list_filtered_by_the_search(world, auth):
    make_customer(world.alice, "张敏", "+8613700004444")
    db.session.commit()
    auth.login("alice")
    response = auth.client.get("/customers/find", query_string={"q": "张"})
    assert response.headers["Location"] == "/customers?q=%E5%BC%A0"
    listed = auth.client.get(response.headers["Location"]).get_data(True)
    assert "张伟" in listed and "张敏" in listed and "共 2 位客户" in listed
    nobody = auth.client.get("/customers/find", query_string={"q": "王芳"})  # carol's
    assert nobody.headers["Location"] == "/customers?q=%E7%8E%8B%E8%8A%B3"
    assert "没有符合条件的客户" in auth.client.get(nobody.headers["Location"]).get_data(True)
    for q in ("", "   ", "%", "\x00", "张" * 200):
        assert auth.client.get("/customers/find", query_string={"q": q}).status_code == 302
    assert auth.client.get("/customers/find?q=%ED%A0%80").status_code == 302


def test_past_the_cap_the_list_says_so(world, auth, monkeypatch):
    monkeypatch.setattr(customer_list, "COUNT_UP_TO", 2)
    customer_list._count_statement.cache_clear()
    try:
        auth.login("admin")
        assert "共 2+ 位客户" in auth.client.get("/customers").get_data(True)
        assert "共 1 位客户" in auth.client.get("/customers?q=王").get_data(True)
    finally:
        customer_list._count_statement.cache_clear()
