"""How each database answers the customer list filtered by a tag, read from its own plans
(SQLite's EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN) over a table large enough, and analysed,
for the planner to choose: the bank's and a branch's list walk the tag's index
(``ix_customer_tag_tag_id_customer_id``) newest first, reading each customer by id, and a
branch's list the branch's links (``ix_customer_tag_branch_id_tag_id_customer_id``), its total
off that index alone; a staff member's own list walks the owner's index and probes the tag's
key; never a sort, never the whole customer table, never every customer carrying the tag
gathered first."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import Customer, Tag, customer_tag
from crm.services.customers import tags
from crm.services.customers.customer_list import CustomerFilters, list_customers
from tests.support.factories import customer_row

ROWS = 20_000
COMMON, RARE = "高净值", "退休"  # on one customer in five, and two in five hundred
OTHER_TAGS = 4


@pytest.fixture
def bank(world):
    """``ROWS`` customers, one in fifty alice's, one in three carol's (the other branch), the
    others bob's; ``COMMON`` on every fifth, ``RARE`` on every five-hundredth (offset, so that
    alice and both branches hold some of each); and ``OTHER_TAGS`` others on everyone, as a
    bank's many tags fill the table (on a table of a few pages any plan would do); analysed."""
    rows = []
    for n in range(ROWS):
        owner = world.alice if n % 50 == 1 else world.carol if n % 3 == 0 else world.bob
        rows.append(customer_row(n, owner, world.alice.created_at))
    db.session.execute(sa.insert(Customer.__table__), rows)
    common, rare = Tag(name=COMMON), Tag(name=RARE)
    others = [Tag(name=f"其他{n}") for n in range(OTHER_TAGS)]
    db.session.add_all([common, rare, *others])
    db.session.flush()
    ids = db.session.scalars(
        sa.select(Customer.id).where(Customer.phone.like("+86137%")).order_by(Customer.id)
    ).all()  # the bank's, in the order of ``rows``
    tagged = [(i, common.id) for n, i in enumerate(ids) if n % 5 == 1]
    tagged += [(i, rare.id) for n, i in enumerate(ids) if n % 500 in (51, 54)]
    tagged += [(i, other.id) for i in ids for other in others]
    tags.link_new_customers(tagged)
    db.session.commit()
    db.session.execute(sa.text("ANALYZE"))
    db.session.commit()
    return world


def plans_of(user, tag: str) -> dict[str, str]:
    """The plan of the list's count and of its page, by hand from the statements it ran."""
    ran: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if re.search(r"FROM customer", statement) and "ORDER BY tag.name" not in statement:
            ran.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        page = list_customers(user, CustomerFilters(tag=tag))
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    connection = db.session.connection()
    sqlite = db.engine.dialect.name == "sqlite"
    explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
    plans = {}
    for statement, parameters in ran:
        lines = connection.exec_driver_sql(explain + statement, parameters).all()
        kind = "count" if statement.startswith("SELECT count(*)") else "page"
        plans[kind] = "\n".join(str(line[-1] if sqlite else line[0]) for line in lines)
    plans["ids"] = [c.id for c in page.customers]
    return plans


def expected(tag: str, owner=None, branch=None) -> list[int]:
    """The tag's customers (the owner's or branch's, if given), newest first, one page's worth."""
    query = (
        sa.select(Customer.id)
        .join(customer_tag, customer_tag.c.customer_id == Customer.id)
        .join(Tag, Tag.id == customer_tag.c.tag_id)
        .where(Tag.name == tag)
        .order_by(Customer.id.desc())
        .limit(50)
    )
    if owner is not None:
        query = query.where(Customer.owner_id == owner.id)
    if branch is not None:
        query = query.where(Customer.branch_id == branch.id)
    return list(db.session.scalars(query))


def scans_customer(plan: str) -> bool:
    """The whole customer table read: what a rare tag's few links, read whole, never need."""
    return "SCAN customer " in plan or "Seq Scan on customer " in plan


def sorts_or_scans(plan: str) -> bool:
    return any(
        marker in plan
        for marker in ("TEMP B-TREE", "SCAN customer", "Seq Scan on customer", "Sort", "Hash")
    )


@pytest.mark.parametrize("tag", [COMMON, RARE])
def test_the_banks_list_by_tag_walks_the_tags_index_newest_first(bank, backend, tag):
    plans = plans_of(bank.admin, tag)
    assert plans["ids"] == expected(tag)
    page, count = plans["page"], plans["count"]
    if backend == "sqlite":
        assert "customer_tag USING COVERING INDEX ix_customer_tag_tag_id_customer_id" in page
        assert "customer USING INTEGER PRIMARY KEY (rowid=?)" in page, page
        # Counted off the tag's index alone.
        assert "ix_customer_tag_tag_id_customer_id (tag_id=?)" in count
        assert "customer USING" not in count, count
    else:
        assert "ix_customer_tag_tag_id_customer_id" in page, page
        assert "customer_tag" in count and not re.search(r" on customer\b(?!_)", count), count
    if tag == COMMON:
        assert not sorts_or_scans(page), page
    else:
        # A rare tag's few customers may be read whole and put in order, never the table.
        assert not scans_customer(page), page


BRANCH_INDEX = "ix_customer_tag_branch_id_tag_id_customer_id"


@pytest.mark.parametrize("tag", [COMMON, RARE])
def test_a_branchs_list_by_tag_walks_the_branchs_links_and_counts_them_alone(bank, backend, tag):
    plans = plans_of(bank.manager, tag)
    assert plans["ids"] == expected(tag, branch=bank.east) and plans["ids"]
    page, count = plans["page"], plans["count"]
    assert BRANCH_INDEX in page and BRANCH_INDEX in count, (page, count)
    if tag == COMMON:
        assert not sorts_or_scans(page), page
    else:
        # As the bank's: a rare tag's few links in the branch (46 here) may be read whole and
        # put in order, never the customer table.
        assert not scans_customer(page), page
    # The total reads the branch's links alone, no customer row (the slow count).
    assert not sorts_or_scans(count), count
    if backend == "sqlite":
        assert f"customer_tag USING COVERING INDEX {BRANCH_INDEX}" in count, count
        assert "customer USING" not in count, count
    else:
        assert not re.search(r" on customer\b(?!_)", count), count


@pytest.mark.parametrize("tag", [COMMON, RARE])
def test_a_staff_members_list_by_tag_walks_their_own_index_probing_the_tag(bank, backend, tag):
    plans = plans_of(bank.alice, tag)
    assert plans["ids"] == expected(tag, bank.alice) and plans["ids"]
    for kind in ("page", "count"):
        plan = plans[kind]
        assert re.search(r"ix_customer_owner_id_\w*id", plan), plan
        assert "customer_tag" in plan, plan
        # A probe per customer of the owner's, never every customer carrying the tag.
        assert not sorts_or_scans(plan), plan
        if backend == "postgresql":
            assert "SubPlan" in plan, plan


def test_a_tag_no_one_carries_lists_no_one(world):
    assert list_customers(world.admin, CustomerFilters(tag="无此标签")).customers == []


def test_a_list_by_tag_asks_the_database_four_things_only(bank, backend):
    """The tag's id, the list's total, its page and the page's tags; no asset tier is read
    when none is asked for."""
    ran: list[str] = []
    assert bank.manager.branch_id == bank.east.id  # the manager loaded before counting

    def record(conn, cursor, statement, parameters, context, executemany):
        ran.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        page = list_customers(bank.manager, CustomerFilters(tag=COMMON))
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert len(page.customers) == 50
    assert len(ran) == 4, ran
    assert ran[0].startswith("SELECT tag.id")
