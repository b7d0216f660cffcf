"""How each database answers a search, read from its own plans (SQLite's EXPLAIN QUERY PLAN,
PostgreSQL's EXPLAIN) over a table large enough, and analysed, for the planner to choose:
a prefix is a range of an index, the page reads its few matches by id, and a common prefix
walks the list's own index newest first without sorting, never the whole table."""

from __future__ import annotations

import random
import re

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import Customer
from crm.models.spelling import spell
from crm.services.customers import search
from crm.services.customers.customer_list import CustomerFilters, list_customers
from crm.services.simulation import people as demo_people
from tests.support.factories import customer_row

ROWS = 20_000


@pytest.fixture
def bank(world):
    """``ROWS`` customers with demo names, one in fifty alice's (a relationship manager holds
    a small part of a bank), the others bob's, and 仇英华 once, alice's; analysed."""
    rng = random.Random(5)
    rows = []
    for n in range(ROWS):
        owner = world.alice if n % 50 == 1 else world.bob
        name = "仇英华" if n == ROWS // 2 + 1 else demo_people.full_name(rng)
        pinyin, initials = spell(name)
        rows.append(
            customer_row(
                n,
                owner,
                world.alice.created_at,
                name=name,
                name_pinyin=pinyin,
                name_initials=initials,
            )
        )
    db.session.execute(sa.insert(Customer.__table__), rows)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # Earlier tests on this database leave free space that these rows fill out of id
        # order; PostgreSQL prices a walk by id by how well the table follows it, so lay the
        # table out in id order, as a table filled by its own inserts is.
        db.session.execute(sa.text("CLUSTER customer USING pk_customer"))
    db.session.execute(sa.text("ANALYZE"))
    db.session.commit()
    return world


def plans_of(user, q: str) -> list[tuple[str, str]]:
    """(statement, plan) of each statement on the customer table that the list page runs."""
    ran: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if re.search(r"FROM customer\b", statement):
            ran.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        list_customers(user, CustomerFilters(q=q))
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    connection = db.session.connection()
    sqlite = db.engine.dialect.name == "sqlite"
    explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
    plans = []
    for statement, parameters in ran:
        lines = connection.exec_driver_sql(explain + statement, parameters).all()
        plans.append((statement, "\n".join(str(line[-1] if sqlite else line[0]) for line in lines)))
    return plans


def statements(plans) -> tuple[tuple[str, str], tuple[str, str], tuple[str, str] | None]:
    """The count of matches, the reading of their ids (if few), and the page."""
    count = next(p for p in plans if p[0].startswith("SELECT count(*)"))
    ids = next((p for p in plans if p[0].startswith("SELECT customer.id \n")), None)
    page = next(p for p in plans if "staff.display_name" in p[0])
    return count, ids, page


def scans_customer(plan: str) -> bool:
    return "SCAN customer" in plan or "Seq Scan on customer" in plan


def test_a_name_prefix_is_an_index_range_and_its_page_reads_matches_by_id(bank, backend):
    (count, count_plan), (ids, ids_plan), (page, page_plan) = statements(
        plans_of(bank.admin, "仇英")
    )
    assert "LIMIT 5001" in count and "LIMIT 5001" in ids
    # The matches' ids, bound: a list on SQLite, one array on PostgreSQL.
    assert ("customer.id IN" if backend == "sqlite" else "customer.id = ANY") in page
    for plan in (count_plan, ids_plan):
        assert "ix_customer_name_id" in plan and not scans_customer(plan), plan
        if backend == "sqlite":
            assert "USING COVERING INDEX ix_customer_name_id (name>? AND name<?)" in plan
        else:
            assert "Index Only Scan using ix_customer_name_id" in plan, plan
    if backend == "sqlite":
        assert "customer USING INTEGER PRIMARY KEY (rowid=?)" in page_plan, page_plan
    else:
        # By id through the primary key, or through the (id, branch_id) index that tag links
        # refer to, which starts with the id just the same.
        assert re.search(
            r"Index Scan (Backward )?using (pk_customer|ix_customer_id_branch_id) on customer",
            page_plan,
        ), page_plan
        assert "Index Cond: (id = ANY" in page_plan, page_plan
    assert not scans_customer(page_plan), page_plan
    # The list's total counts the same matches off the name's index, not id by id.
    total, total_plan = [p for p in plans_of(bank.admin, "仇英") if "count(*)" in p[0]][-1]
    assert "customer.name >=" in total and "customer.id" not in total.split("WHERE")[-1]
    assert "ix_customer_name_id" in total_plan and not scans_customer(total_plan), total_plan
    assert list_customers(bank.admin, CustomerFilters(q="仇英")).total == 1


def test_a_staff_members_rare_prefix_reads_the_name_index(bank, backend):
    plans = plans_of(bank.alice, "仇英")
    assert [c.name for c in list_customers(bank.alice, CustomerFilters(q="仇英")).customers] == [
        "仇英华"
    ]
    assert all(not scans_customer(plan) for _, plan in plans), plans
    (count, count_plan), _, _ = statements(plans)
    # Counted among their own on PostgreSQL, in the whole bank on SQLite.
    assert ("customer.owner_id = " in count) == (backend == "postgresql"), count
    assert "ix_customer_name_id" in count_plan, count_plan


@pytest.mark.parametrize("q", ["王", "w"])
def test_a_staff_members_common_search_is_counted_among_their_own(bank, backend, q, monkeypatch):
    """王 and w begin hundreds of names of the bank but a few of alice's: on PostgreSQL,
    counted among her own, they are read by id, not found by walking her customers row by
    row. (SQLite counts them in the whole bank: no index of hers carries the names.)"""
    monkeypatch.setattr(search, "WALK_ABOVE", 100)
    assert {"name_walk", "spelling_walk"} & set(search.resolve(bank.admin, q).shape)  # common
    if backend == "postgresql":
        assert "search_id_array" in search.resolve(bank.alice, q).shape
        (count, count_plan), _, _ = statements(plans_of(bank.alice, q))
        assert count.count("customer.owner_id = ") == count.count("customer.id AS id"), count
        assert not scans_customer(count_plan), count_plan
        if q == "w":
            # Her 400 customers' entries of the owner's index, which carries the searched
            # columns, rather than the bank's 1,500 of w with a row of the table each.
            owners = "Index Only Scan using ix_customer_owner_id_name_pinyin_id"
            assert owners in count_plan, count_plan
    shown = list_customers(bank.alice, CustomerFilters(q=q))
    expected = list_customers(bank.admin, CustomerFilters(q=q, owner=bank.alice.id))
    assert 0 < shown.total == expected.total <= 100
    assert [c.id for c in shown.customers] == [c.id for c in expected.customers]


def test_pinyin_and_initials_read_both_their_indexes(bank, backend):
    plans = plans_of(bank.admin, "qiuyingh")
    (_, count_plan), _, _ = statements(plans)
    for index in ("ix_customer_name_pinyin_id", "ix_customer_name_initials_id"):
        assert index in count_plan, count_plan
    assert all(not scans_customer(plan) for _, plan in plans), plans


def test_common_initials_are_counted_off_both_indexes_without_reading_rows(
    bank, backend, monkeypatch
):
    """A walked pinyin-or-initials search is counted as the two ranges read apart and their
    ids joined: as one OR, PostgreSQL made one bitmap of both and read a row of the table for
    each match (on a vacuumed table each range alone is an index-only read)."""
    monkeypatch.setattr(search, "WALK_ABOVE", 10)
    plans = plans_of(bank.admin, "w")
    counts = [plan for statement, plan in plans if statement.startswith("SELECT count(*)")]
    total = counts[-1]  # the list's; the first is the search's own probe
    for index in ("ix_customer_name_pinyin_id", "ix_customer_name_initials_id"):
        assert index in total, total
    assert not scans_customer(total) and "BitmapOr" not in total, total
    expected = sum(
        1
        for pinyin, initials in db.session.execute(
            sa.select(Customer.name_pinyin, Customer.name_initials)
        )
        if pinyin.startswith("w") or initials.startswith("w")
    )
    assert list_customers(bank.admin, CustomerFilters(q="w")).total == expected > 10


def test_a_three_digit_phone_tail_reads_ten_keys_of_the_last_four(bank):
    plans = plans_of(bank.admin, "999")
    (_, count_plan), _, _ = statements(plans)
    assert "ix_customer_phone_last4_id" in count_plan, count_plan
    assert all(not scans_customer(plan) for _, plan in plans), plans


@pytest.mark.parametrize("tail", ["999", "99"])
def test_a_common_phone_tail_is_counted_off_the_last_fours_index(bank, monkeypatch, tail):
    monkeypatch.setattr(search, "WALK_ABOVE", 10)  # a tail shared by more than this walks
    plans = plans_of(bank.admin, tail)
    counts = [plan for statement, plan in plans if statement.startswith("SELECT count(*)")]
    assert counts and all(
        "ix_customer_phone_last4_id" in plan and not scans_customer(plan) for plan in counts
    ), counts
    shown = list_customers(bank.admin, CustomerFilters(q=tail))
    assert shown.total == sum(1 for n in range(ROWS) if f"{n:08d}".endswith(tail))
    assert shown.customers and all(c.phone.endswith(tail) for c in shown.customers)


def test_a_common_prefix_walks_the_lists_index_newest_first(bank, backend, monkeypatch):
    monkeypatch.setattr(search, "WALK_ABOVE", 10)  # 王 is common enough to walk
    (_, count_plan), ids, (page, page_plan) = statements(plans_of(bank.admin, "王"))
    assert ids is None and "substr(customer.name" in page
    assert "ix_customer_name_id" in count_plan and not scans_customer(count_plan)
    # The whole bank: rows come newest first off the primary key, no sort, and the walk
    # stops at a page.
    assert "TEMP B-TREE" not in page_plan and "Sort" not in page_plan, page_plan
    assert not scans_customer(page_plan) or backend == "sqlite", page_plan
    # A relationship manager's: their own customers only, off the owner's index (alice has
    # four named 王, more than two).
    monkeypatch.setattr(search, "WALK_ABOVE", 2)
    _, _, (page, page_plan) = statements(plans_of(bank.alice, "王"))
    assert "ix_customer_owner_id" in page_plan and not scans_customer(page_plan), page_plan
