"""The search box: names, pinyin, initials, phone tails and policy numbers, within the user's
scope, the same customers whether the matches are read off the index or walked, and bad
input answered without a look at the table."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import Policy
from crm.models.enums import PaymentMode, ProductType
from crm.services.customers import search
from crm.services.customers.customer_list import CustomerFilters, list_customers
from tests.support.factories import make_customer

ALICE = {
    "张三": "+8613500000001",
    "张帅": "+8613500000002",
    "章三丰": "+8613500000003",
    "曾小明": "+8613500000004",
    "单雄信": "+8613500000005",
    "解晓东": "+8613500000006",
    "区志强": "+8613500000007",
    "仇英": "+8613500000008",
    "欧阳娜娜": "+8613500000009",
    "Anna Li": "+8613500000010",
    "张_明": "+8613500001234",
}


@pytest.fixture
def people(world):
    for name, phone in ALICE.items():
        make_customer(world.alice, name, phone)
    make_customer(world.bob, "张三", "+8613600000001")
    db.session.commit()
    return world


def found(user, q: str, **filters) -> list[str]:
    page = list_customers(user, CustomerFilters(q=q, **filters), page_size=100)
    return sorted(c.name for c in page.customers)


@pytest.mark.parametrize(
    ("q", "names"),
    [
        ("zhangsan", ["张三", "张三", "章三丰"]),
        ("zhang san", ["张三", "张三", "章三丰"]),
        ("ZhangSan", ["张三", "张三", "章三丰"]),
        ("ｚｈａｎｇｓａｎ", ["张三", "张三", "章三丰"]),
        ("zs", ["张三", "张三", "张帅", "章三丰"]),
        ("zsf", ["章三丰"]),
        ("zhangshuai", ["张帅"]),
        ("oynn", ["欧阳娜娜"]),
        ("anna li", ["Anna Li"]),
        ("al", ["Anna Li"]),
    ],
)
def test_full_pinyin_and_initials_find_names_from_their_start(people, q, names):
    assert found(people.admin, q) == names


@pytest.mark.parametrize(
    ("q", "names"),
    [
        ("张s", ["张三", "张三", "张帅"]),
        ("张 s", ["张三", "张三", "张帅"]),
        ("张sh", ["张帅"]),
        ("张sa", ["张三", "张三"]),
        ("章sf", ["章三丰"]),
        ("曾x", ["曾小明"]),
        ("张q", []),
    ],
)
def test_chinese_then_letters_spell_the_rest_of_the_name(people, q, names):
    assert found(people.admin, q) == names


@pytest.mark.parametrize(
    ("q", "names", "not_by"),
    [
        ("shanxiongxin", ["单雄信"], "danxiongxin"),
        ("zeng", ["曾小明"], "ceng"),
        ("xiexiaodong", ["解晓东"], "jiexiaodong"),
        ("ouzhiqiang", ["区志强"], "quzhiqiang"),
        ("qiuying", ["仇英"], "chouying"),
    ],
)
def test_surnames_with_two_readings_are_found_by_their_surname_reading(people, q, names, not_by):
    assert found(people.admin, q) == names
    assert found(people.admin, not_by) == []


def test_chinese_names_by_their_beginning(people):
    assert found(people.admin, "张") == ["张_明", "张三", "张三", "张伟", "张帅"]
    assert found(people.admin, "张三") == ["张三", "张三"]
    assert found(people.admin, "张 三") == ["张三", "张三"]
    assert found(people.admin, "欧阳娜娜") == ["欧阳娜娜"]
    assert found(people.admin, "张三丰") == []


def test_each_user_finds_only_customers_they_may_see(people):
    assert found(people.alice, "zhangsan") == ["张三", "章三丰"]
    assert found(people.bob, "zhangsan") == ["张三"]
    assert found(people.carol, "zhangsan") == []
    assert found(people.manager, "张三") == ["张三", "张三"]
    assert found(people.manager, "张三", owner=people.bob.id) == ["张三"]


def test_phone_tails_of_every_length(people):
    assert found(people.alice, "0004") == ["曾小明"]
    assert found(people.alice, "004") == ["曾小明"]
    assert found(people.alice, "234") == ["张_明"]
    assert found(people.alice, "34") == ["张_明"]
    assert found(people.alice, "135-0000-0001") == ["张三"]
    assert found(people.alice, "+86 135 0000 0001") == ["张三"]


@pytest.fixture
def walk_always(monkeypatch):
    """Every search with a match walks the list's index, as a common prefix does."""
    monkeypatch.setattr(search, "WALK_ABOVE", 0)


def pages(user, q: str, size: int) -> list[list[str]]:
    """Every page, oldest last, then back again from the last to the first."""
    forward = [list_customers(user, CustomerFilters(q=q), page_size=size)]
    while forward[-1].next_cursor:
        forward.append(
            list_customers(
                user, CustomerFilters(q=q), before=forward[-1].next_cursor, page_size=size
            )
        )
    backward = [forward[-1]]
    while backward[-1].prev_cursor:
        backward.append(
            list_customers(
                user, CustomerFilters(q=q), after=backward[-1].prev_cursor, page_size=size
            )
        )
    ids = lambda page: [c.id for c in page.customers]  # noqa: E731
    assert [ids(p) for p in backward] == [ids(p) for p in reversed(forward)]
    return [[c.name for c in page.customers] for page in forward]


QUERIES = ("张", "zs", "z", "张s", "004", "34", "zhangsan", "曾", "an")


def test_reading_matches_off_the_index_and_walking_agree_page_by_page(people, monkeypatch):
    read = {q: pages(people.admin, q, 2) for q in QUERIES}
    monkeypatch.setattr(search, "WALK_ABOVE", 0)
    walked = {q: pages(people.admin, q, 2) for q in QUERIES}
    assert read == walked
    # Newest first, in keyset pages: bob's 张三 came last, the world's 张伟 first.
    assert read["张"] == [["张三", "张_明"], ["张帅", "张三"], ["张伟"]]


def test_the_walk_checks_the_name_on_each_row(people, walk_always):
    assert found(people.admin, "zhangsan") == ["张三", "张三", "章三丰"]
    assert found(people.admin, "张s") == ["张三", "张三", "张帅"]
    assert found(people.alice, "曾") == ["曾小明"]


@pytest.fixture
def statements(app):
    """The SQL statements run while the test runs."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(db.engine, "before_cursor_execute", record)


def customers_read(statements: list[str]) -> list[str]:
    return [s for s in statements if re.search(r"FROM customer\b", s)]


@pytest.mark.parametrize("q", ["%", "_", "%%", "__", "'", "--", "%张", "\\", "張三丰"])
def test_wildcards_and_stray_characters_match_nothing_after_one_index_read(people, statements, q):
    statements.clear()
    assert found(people.admin, q) == []
    # The index was asked whether anything begins so, and said no: no page was read.
    (count,) = customers_read(statements)
    assert count.startswith("SELECT count(*)") and "LIMIT 5001" in count


def test_a_query_longer_than_any_name_is_refused_without_a_look(people, statements):
    statements.clear()
    page = list_customers(people.admin, CustomerFilters(q="张" * 200))
    assert page.customers == [] and "60" in str(page.message)
    assert customers_read(statements) == []
    # As the list page reads its parameters: cut short, still refused.
    filters = CustomerFilters.from_args({"q": "z" * 200})
    assert len(filters.q) == search.MAX_QUERY + 1
    assert list_customers(people.admin, filters).message is not None


@pytest.mark.parametrize("q", ["", "   ", "\x00", "\x01\x02", "\u202e", "\t\n"])
def test_empty_and_control_only_searches_are_the_whole_list(people, q):
    whole = found(people.alice, "")
    filters = CustomerFilters.from_args({"q": q})
    assert filters.q == ""
    assert found(people.alice, q) == whole and len(whole) == len(ALICE) + 1  # and 张伟


def test_control_characters_inside_a_search_are_spaces(people):
    assert found(people.admin, "张\x00三") == ["张三", "张三"]
    assert found(people.admin, "zhang\tsan") == ["张三", "张三", "章三丰"]


def add_policy(customer, number: str) -> None:
    db.session.add(
        Policy(
            customer=customer,
            policy_number=number,
            product_name="鑫享年金",
            product_type=ProductType.ANNUITY,
            premium=Decimal("10000.00"),
            payment_mode=PaymentMode.REGULAR,
            start_date=date(2025, 1, 1),
        )
    )
    db.session.commit()


def test_a_policy_number_finds_its_customer_for_whoever_may_see_them(people):
    add_policy(people.alice_customer, "P2026000123")
    for user in (people.alice, people.manager, people.admin):
        for q in ("P2026000123", "p2026000123", "ｐ２０２６０００１２３", " P2026 000123 "):
            page = list_customers(user, CustomerFilters(q=q))
            assert page.policy_customer == people.alice_customer.id
            assert [c.name for c in page.customers] == ["张伟"]
    # Not one they may see: the number is read as anything else would be (it is no name).
    for user in (people.bob, people.carol):
        page = list_customers(user, CustomerFilters(q="P2026000123"))
        assert page.policy_customer is None and page.customers == []
    assert search.policy_holder(people.admin, "P2026") is None  # whole numbers only


def test_a_policy_number_of_digits_is_a_policy_first_then_a_phone_tail(people):
    add_policy(people.bob_customer, "88000001")
    assert list_customers(people.bob, CustomerFilters(q="88000001")).policy_customer == (
        people.bob_customer.id
    )
    page = list_customers(people.alice, CustomerFilters(q="88000001"))
    assert page.policy_customer is None and page.customers == []
