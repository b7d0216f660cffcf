"""The customer list's sorts, its total and its cursors: every order pages forward and back
over the same customers, ties on the sorted value included; a bad cursor is the first page."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crm.extensions import db
from crm.services.customers import customer_list
from crm.services.customers.customer_list import CustomerFilters, list_customers
from tests.support.factories import make_customer

# (name, liquid assets, willingness): ties on each sorted value, Chinese and Latin names.
PEOPLE = [
    ("张三", "500000", 80),
    ("李丽", "500000", 40),
    ("王芳", "20000", 40),
    ("Anna Li", "1200000", 95),
    ("赵敏", "0", 10),
    ("陈静", "20000", 80),
    ("阿强", "750000", 55),
]


@pytest.fixture
def bank(world):
    for n, (name, assets, willingness) in enumerate(PEOPLE):
        make_customer(
            world.alice,
            name,
            f"+86137000{n:05d}",
            liquid_assets=Decimal(assets),
            willingness=willingness,
        )
    db.session.commit()
    return world


def walk(user, filters, size):
    """Every page forward, then every page back from the last: the names in order each way."""
    pages = [list_customers(user, filters, page_size=size)]
    while pages[-1].next_cursor:
        pages.append(list_customers(user, filters, before=pages[-1].next_cursor, page_size=size))
    backward = [pages[-1]]
    while backward[-1].prev_cursor:
        backward.append(
            list_customers(user, filters, after=backward[-1].prev_cursor, page_size=size)
        )
    forward_names = [c.name for p in pages for c in p.customers]
    backward_names = [c.name for p in reversed(backward) for c in p.customers]
    return forward_names, backward_names


# Alice's seven and the world's 张伟 (¥100,000, 40, the oldest); ties newest first, or in
# id order for the name.
EXPECTED = {
    "name": ["Anna Li", "阿强", "陈静", "李丽", "王芳", "张三", "张伟", "赵敏"],
    "assets": ["Anna Li", "阿强", "李丽", "张三", "张伟", "陈静", "王芳", "赵敏"],
    "willingness": ["Anna Li", "陈静", "张三", "阿强", "王芳", "李丽", "张伟", "赵敏"],
}


@pytest.mark.parametrize("sort", ["name", "assets", "willingness"])
@pytest.mark.parametrize("size", [1, 3, 50])
def test_each_sort_pages_forward_and_back_in_its_order(bank, backend, sort, size):
    forward, backward = walk(bank.alice, CustomerFilters(sort=sort), size)
    assert forward == EXPECTED[sort]
    assert backward == forward


def test_a_sorted_search_pages_in_the_sort_order(bank, backend):
    forward, backward = walk(bank.alice, CustomerFilters(q="z", sort="assets"), 1)
    assert forward == ["张三", "张伟", "赵敏"] and backward == forward


def test_the_default_order_is_newest_first_and_pages_both_ways(bank, backend):
    forward, backward = walk(bank.alice, CustomerFilters(), 3)
    assert forward == ["阿强", "陈静", "赵敏", "Anna Li", "王芳", "李丽", "张三", "张伟"]
    assert backward == forward


def test_the_total_counts_what_the_user_may_see_under_the_filters(bank, backend):
    assert list_customers(bank.alice, CustomerFilters()).total == 8
    assert list_customers(bank.manager, CustomerFilters()).total == 9  # alice's and bob's
    assert list_customers(bank.admin, CustomerFilters()).total == 10
    assert list_customers(bank.alice, CustomerFilters(q="张")).total == 2
    assert list_customers(bank.carol, CustomerFilters(q="张")).total == 0


def test_beyond_the_cap_the_total_says_so_without_counting_further(bank, backend, monkeypatch):
    monkeypatch.setattr(customer_list, "COUNT_UP_TO", 4)
    customer_list._count_statement.cache_clear()
    try:
        page = list_customers(bank.admin, CustomerFilters())
        assert page.total == 5 and not page.total_is_exact
        assert list_customers(bank.admin, CustomerFilters(q="王")).total_is_exact
    finally:
        customer_list._count_statement.cache_clear()


@pytest.mark.parametrize(
    "sort, cursor",
    [
        ("assets", "abc"),
        ("assets", "3:1e999999"),
        ("assets", "3:NaN"),
        ("assets", "3:-5"),
        ("assets", "99999999999999999999:100"),
        ("willingness", "3:5000"),
        ("willingness", "3"),
        ("name", ":zhang"),
        ("", "3:zhang"),
        ("", "-1"),
    ],
)
def test_a_cursor_that_does_not_parse_is_the_first_page(bank, backend, sort, cursor):
    filters = CustomerFilters(sort=sort)
    first = [c.name for c in list_customers(bank.alice, filters, page_size=3).customers]
    for side in ("before", "after"):
        page = list_customers(bank.alice, filters, page_size=3, **{side: cursor})
        assert [c.name for c in page.customers] == first


def test_an_unknown_sort_is_the_default_order():
    assert CustomerFilters.from_args({"sort": "id; DROP TABLE customer"}).sort == ""
    assert CustomerFilters.from_args({"sort": "assets"}).sort == "assets"
