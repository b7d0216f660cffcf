"""The customer list sorted, and the header's search box, at bank scale, for `bench/web.py`.

Sorted lists: by name (pinyin order), liquid assets, willingness, last contact and next
planned experience (each date both ways), for a relationship manager (their own customers), a
branch manager (the whole branch) and an admin (the whole bank). The bank has no experiences,
so the two stored dates are filled first, untimed, in one statement (``fill_contact_dates``):
four customers in five with a last contact in the past two years, three in five with the next
experience planned within 90 days, the rest without (they come last, a second range read).
Each sample is a page at a random depth (the page after a customer drawn from the list, one
sample in four the first page). The query layer (`customer_list.list_customers`: the list's
total, counted to 10,001, the page by (value, id) keyset, its tags) is timed
against its bare SQL (the same three statements by hand, through the driver), alternating
which goes first; then the whole page over HTTP in the test client. Targets as the list's:
query ≤ 3× its SQL at p50, page p95 ≤ 50 ms.

Header search (`/customers/find?q=`, in the header of every page): for the relationship
manager, a customer's full name, pinyin or phone's last four digits, drawn afresh, answered
with the redirect to the dossier (one match) or to the filtered list (several); the p95 of
that answer over HTTP, target ≤ 30 ms.
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import date

import sqlalchemy as sa

from bench.common import maintenance
from bench.lists import (
    COLUMNS_SQL,
    COUNT_SQL,
    PAGE,
    ListScenario,
    _floor,
    as_a_new_request,
    log_in,
    percentile,
    verdict,
)
from crm.extensions import db
from crm.models import Customer, Staff
from crm.models.base import Money
from crm.models.enums import Role
from crm.services.customers.customer_list import SORTS, CustomerFilters, list_customers
from crm.services.customers.list_sorts import Sort

HEADER_P95_TARGET_MS = 30.0
USERS = (
    ("bench", "staff: own list"),
    ("manager01", "manager: whole branch"),
    ("admin01", "admin: whole bank"),
)
SORT_NAMES = {
    "name": "name",
    "assets": "liquid assets",
    "willingness": "willingness",
    "contact_recent": "last contact, most recent first",
    "contact_oldest": "last contact, longest ago first",
    "planned_soonest": "next planned, soonest first",
    "planned_latest": "next planned, latest first",
}
# The day the synthetic dates count from.
DATES_FROM = date(2026, 11, 23)
SCENARIOS = tuple(
    (f"{who}, by {SORT_NAMES[sort]}, random page", user, sort)
    for sort in SORTS
    for user, who in USERS
)


def _scope(staff: Staff) -> tuple[str, sa.ColumnElement[bool]]:
    if staff.role == Role.STAFF:
        return "c.owner_id = :me", Customer.owner_id == staff.id
    if staff.role == Role.MANAGER:
        return "c.branch_id = :branch", Customer.branch_id == staff.branch_id
    return "1 = 1", sa.true()


def fill_contact_dates() -> None:
    """The stored last contact and next planned days, spread by id (the same every run, in
    products small enough for PostgreSQL's integers): no contact for one customer in five,
    nothing planned for two in five."""
    if db.engine.dialect.name == "sqlite":

        def day(offset: str) -> str:
            return f"date('{DATES_FROM.isoformat()}', ({offset}) || ' days')"
    else:

        def day(offset: str) -> str:
            return f"DATE '{DATES_FROM.isoformat()}' + ({offset})"

    db.session.execute(
        sa.text(
            "UPDATE customer SET "
            f"last_contact_on = CASE WHEN id % 5 = 0 THEN NULL "
            f"ELSE {day('-((id % 730) * 619 % 730)')} END, "
            f"next_planned_on = CASE WHEN id % 5 IN (1, 2) THEN NULL "
            f"ELSE {day('(id % 90) * 59 % 90')} END"
        )
    )
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        maintenance("VACUUM ANALYZE customer")
    else:
        db.session.execute(sa.text("ANALYZE customer"))
        db.session.commit()


def _floor_sql(staff: Staff, sort: str, cursor: bool, among_none: bool) -> tuple[str, str]:
    by = SORTS[sort]
    column = f"c.{by.column.key}"
    scope, _ = _scope(staff)
    way, past = ("DESC", "<") if by.descending else ("ASC", ">")
    if by.nullable:
        return _nullable_floor_sql(by, scope, way, past, cursor, among_none), COUNT_SQL.format(
            where=scope
        )
    after = f" AND ({column}, c.id) {past} (:value, :cursor)" if cursor else ""
    return (
        f"{COLUMNS_SQL} WHERE {scope}{after} ORDER BY {column} {way}, c.id {way} LIMIT {PAGE + 1}",
        COUNT_SQL.format(where=scope),
    )


def _nullable_floor_sql(
    by: Sort, scope: str, way: str, past: str, cursor: bool, among_none: bool
) -> str:
    """The page of a date some customers lack, by hand: those with one past the cursor, then
    those without by id, each its own range read, the two put in order (the columns as the
    page reads them, the two dates with them)."""
    column = f"c.{by.column.key}"
    limit = f"LIMIT {PAGE + 1}"
    columns = COLUMNS_SQL.replace(
        " FROM customer c", ", c.last_contact_on, c.next_planned_on FROM customer c", 1
    )
    none = f"{columns} WHERE {scope} AND {column} IS NULL"
    if among_none:
        return f"{none} AND c.id {past} :cursor ORDER BY {column} {way}, c.id {way} {limit}"
    after = f" AND ({column}, c.id) {past} (:value, :cursor)" if cursor else ""
    valued = f"{columns} WHERE {scope} AND {column} IS NOT NULL{after}"
    valued += f" ORDER BY {column} {way}, c.id {way} {limit}"
    none += f" ORDER BY {column} {way}, c.id {way} {limit}"
    return (
        f"SELECT * FROM (SELECT * FROM ({valued}) v UNION ALL SELECT * FROM ({none}) n) p "
        f"ORDER BY {by.column.key} IS NULL, {by.column.key} {way}, id {way} {limit}"
    )


def _draw(staff: Staff, sort: str, rng: random.Random, top: int) -> tuple[int, object] | None:
    """A customer the user may see, as a cursor (id, sort value); one time in four none."""
    if rng.random() < 0.25:
        return None
    _, scope = _scope(staff)
    column = SORTS[sort].column
    row = db.session.execute(
        sa.select(Customer.id, column)
        .where(scope, Customer.id >= rng.randint(1, top))
        .order_by(Customer.id)
        .limit(1)
    ).first()
    return None if row is None else (row[0], row[1])


def measure_sorted_lists(app, samples: int, log) -> list[ListScenario]:
    measured = []
    fill_contact_dates()
    rng = random.Random(17)
    dialect = db.engine.dialect
    top = db.session.scalar(sa.select(sa.func.max(Customer.id)))
    for name, username, sort in SCENARIOS:
        scenario = ListScenario(name, username, False, True)
        staff = db.session.scalars(sa.select(Staff).where(Staff.username == username)).one()
        client = app.test_client()
        log_in(client, username)
        filters = CustomerFilters(sort=sort)
        for _ in range(samples):
            drawn = _draw(staff, sort, rng, top)
            among_none = drawn is not None and drawn[1] is None
            sql, count_sql = _floor_sql(staff, sort, drawn is not None, among_none)
            params = {"me": staff.id, "branch": staff.branch_id}
            before = None
            if drawn is not None:
                value = drawn[1]
                if sort == "assets":  # in the backend's storage units, as the ORM binds it
                    value = Money().process_bind_param(value, dialect)
                params |= {"cursor": drawn[0], "value": value}
                before = f"{drawn[0]}:{'-' if among_none else drawn[1]}"
            order = (0, 1) if rng.random() < 0.5 else (1, 0)
            for which in order:
                started = time.perf_counter()
                if which == 0:
                    _floor(sql, params, count_sql)
                    scenario.floor_ms.append((time.perf_counter() - started) * 1000)
                else:
                    list_customers(staff, filters, before=before, page_size=PAGE)
                    scenario.query_ms.append((time.perf_counter() - started) * 1000)
            as_a_new_request()
            query = {"sort": sort} | ({"before": before} if before else {})
            started = time.perf_counter()
            response = client.get("/customers", query_string=query)
            scenario.page_ms.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, query
        db.session.rollback()
        log(
            f"  {name}: SQL p50 {statistics.median(scenario.floor_ms):.2f} ms, query p50 "
            f"{statistics.median(scenario.query_ms):.2f} ms ({scenario.ratio:.2f}×), "
            f"page p95 {scenario.page_p95:.1f} ms"
        )
        measured.append(scenario)
    return measured


def measure_header_search(app, samples: int, log) -> list[float]:
    """The header's search answered (the redirect), for the relationship manager ``bench``."""
    rng = random.Random(19)
    staff = db.session.scalars(sa.select(Staff).where(Staff.username == "bench")).one()
    own = db.session.execute(
        sa.select(Customer.name, Customer.name_pinyin, Customer.phone_last4).where(
            Customer.owner_id == staff.id
        )
    ).all()
    client = app.test_client()
    log_in(client, "bench")
    times: list[float] = []
    for _ in range(samples):
        q = rng.choice(rng.choice(own))
        as_a_new_request()
        started = time.perf_counter()
        response = client.get("/customers/find", query_string={"q": q})
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 302, q
    db.session.rollback()
    log(
        f"  header search: p50 {statistics.median(times):.1f} ms, "
        f"p95 {percentile(times, 0.95):.1f} ms"
    )
    return times


def header_table(results) -> str:
    lines = [
        f"| backend | header search p50 ms | p95 ms (≤ {HEADER_P95_TARGET_MS:.0f}) | verdict |",
        "|---|---:|---:|---|",
    ]
    for r in results:
        if r.header_ms:
            p95 = percentile(r.header_ms, 0.95)
            lines.append(
                f"| {r.backend} | {statistics.median(r.header_ms):.1f} | {p95:.1f} "
                f"| {verdict(p95 <= HEADER_P95_TARGET_MS)} |"
            )
    return "\n".join(lines)
