"""The customer list sorted, and the header's search box, at bank scale, for `bench/web.py`.

Sorted lists: by name (pinyin order), liquid assets and willingness, for a relationship
manager (their own customers), a branch manager (the whole branch) and an admin (the whole
bank). Each sample is a page at a random depth (the page after a customer drawn from the
list, one sample in four the first page). The query layer (`customer_list.list_customers`:
the list's total, counted to 10,001, the page by (value, id) keyset, its tags) is timed
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

import sqlalchemy as sa

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

HEADER_P95_TARGET_MS = 30.0
USERS = (
    ("bench", "staff: own list"),
    ("manager01", "manager: whole branch"),
    ("admin01", "admin: whole bank"),
)
SORT_NAMES = {"name": "name", "assets": "liquid assets", "willingness": "willingness"}
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


def _floor_sql(staff: Staff, sort: str, cursor: bool) -> tuple[str, str]:
    by = SORTS[sort]
    column = f"c.{by.column.key}"
    scope, _ = _scope(staff)
    way, past = ("DESC", "<") if by.descending else ("ASC", ">")
    after = f" AND ({column}, c.id) {past} (:value, :cursor)" if cursor else ""
    return (
        f"{COLUMNS_SQL} WHERE {scope}{after} ORDER BY {column} {way}, c.id {way} LIMIT {PAGE + 1}",
        COUNT_SQL.format(where=scope),
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
            sql, count_sql = _floor_sql(staff, sort, drawn is not None)
            params = {"me": staff.id, "branch": staff.branch_id}
            before = None
            if drawn is not None:
                value = drawn[1]
                if sort == "assets":  # in the backend's storage units, as the ORM binds it
                    value = Money().process_bind_param(value, dialect)
                params |= {"cursor": drawn[0], "value": value}
                before = f"{drawn[0]}:{drawn[1]}"
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
