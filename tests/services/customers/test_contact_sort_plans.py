"""How each database answers the customer list sorted by last contact or next planned
experience, read from its own plans (SQLite's EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN) over
a table large enough, and analysed, for the planner to choose: for the bank, a branch and a
relationship manager, a page deep in the customers with a date and a page among those
without one are each a range read of that list's index on the date (``ix_customer_[branch_id_
| owner_id_]<date>_id``), never the whole customer table, another index filtered, nor a sort
of it; and they are the right rows. On PostgreSQL the same holds of the generic plan, the one
the server keeps for a statement the driver has prepared (psycopg prepares a statement run
five times, and the app keeps them across requests: ``crm.core.dbsetup``)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import Customer
from crm.services.customers.customer_list import CustomerFilters, list_customers
from crm.services.customers.list_sorts import SORTS
from tests.support.factories import customer_row

ROWS = 20_000
DAY = date(2026, 11, 23)


@pytest.fixture
def bank(world):
    """``ROWS`` customers, three in fifty alice's, one in three carol's (the other branch), the
    others bob's; no contact for one in five, nothing planned for two in five; analysed."""
    rows = []
    for n in range(ROWS):
        owner = world.alice if n % 50 in (1, 3, 5) else world.carol if n % 3 == 0 else world.bob
        rows.append(
            customer_row(
                n,
                owner,
                world.alice.created_at,
                last_contact_on=None if n % 5 == 0 else DAY - timedelta(days=n * 7919 % 730),
                next_planned_on=None if n % 5 in (1, 2) else DAY + timedelta(n * 104729 % 90),
            )
        )
    db.session.execute(sa.insert(Customer.__table__), rows)
    db.session.commit()
    db.session.execute(sa.text("ANALYZE"))
    db.session.commit()
    return world


def reference(user, sort: str) -> list[int]:
    """The list in the sort's order, worked out in Python: dated first, then the rest by id."""
    by = SORTS[sort]
    query = sa.select(Customer.id, by.column)
    if user.role.value == "staff":
        query = query.where(Customer.owner_id == user.id)
    elif user.role.value == "manager":
        query = query.where(Customer.branch_id == user.branch_id)
    rows = db.session.execute(query).all()
    dated = sorted((r for r in rows if r[1] is not None), key=lambda r: (r[1], r[0]))
    rest = sorted(r[0] for r in rows if r[1] is None)
    if by.descending:
        return [r[0] for r in reversed(dated)] + rest[::-1]
    return [r[0] for r in dated] + rest


def page_and_plan(user, sort: str, before: str) -> tuple[list[int], str]:
    ran: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if "ORDER BY" in statement and "FROM customer" in statement and "tag.name" not in statement:
            ran.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        page = list_customers(user, CustomerFilters(sort=sort), before=before)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    sqlite = db.engine.dialect.name == "sqlite"
    explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
    statement, parameters = ran[-1]
    lines = db.session.connection().exec_driver_sql(explain + statement, parameters).all()
    plan = "\n".join(str(line[-1] if sqlite else line[0]) for line in lines)
    if not sqlite:
        plan += "\n-- generic --\n" + generic_plan(statement, parameters)
    return [c.id for c in page.customers], plan


def _literal(value) -> str:
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def generic_plan(statement: str, parameters: dict) -> str:
    """PostgreSQL's plan of ``statement`` prepared, for any values of its parameters (the
    plan a prepared statement settles on), the types inferred as the server infers them."""
    names: list[str] = []

    def numbered(match: re.Match) -> str:
        if match[1] not in names:
            names.append(match[1])
        return f"${names.index(match[1]) + 1}"

    connection = db.session.connection()
    connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
    connection.exec_driver_sql(
        "PREPARE sorted_page AS " + re.sub(r"%\((\w+)\)s", numbered, statement)
    )
    try:
        values = ", ".join(_literal(parameters[n]) for n in names)
        lines = connection.exec_driver_sql(f"EXPLAIN EXECUTE sorted_page({values})").all()
    finally:
        connection.exec_driver_sql("DEALLOCATE sorted_page")
    return "\n".join(line[0] for line in lines)


@pytest.mark.parametrize("sort", sorted(s for s in SORTS if SORTS[s].nullable))
@pytest.mark.parametrize("who", ["admin", "manager", "alice"])
def test_a_deep_page_is_a_range_of_the_lists_own_index(bank, backend, sort, who):
    user = getattr(bank, who)
    by = SORTS[sort]
    index = {"admin": "", "manager": "branch_id_", "alice": "owner_id_"}[who]
    index = f"ix_customer_{index}{by.column.key}_id"
    order = reference(user, sort)
    values = dict(db.session.execute(sa.select(Customer.id, by.column)).all())
    dated = [i for i in order if values[i] is not None]
    # Two thirds into the dated customers, and among those without a date.
    for at in (dated[len(dated) * 2 // 3], order[-len(order) // 10]):
        value = values[at]
        ids, plan = page_and_plan(user, sort, f"{at}:{'-' if value is None else value}")
        start = order.index(at) + 1
        assert ids == order[start : start + 50]
        assert not re.search(r"SCAN customer\b|Seq Scan on customer\b", plan), plan
        assert index in plan, plan
        # Each part is a range of the date's index in its order: no other index walked with
        # the date as a filter (a whole branch read where every customer has one), no sort
        # but the union's of its two short parts.
        assert not re.search(r"Filter: .*_on IS (NOT )?NULL", plan), plan
        assert not re.search(r"Sort Key: c(ustomer)?\.", plan), plan
