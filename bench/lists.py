"""The customer list at bank scale, for `bench/web.py` (a million customers) and
`bench/list_scale.py` (ten million): five lists a relationship manager and a branch manager
open every day, each sampled at random quadrants, owners and cursors.

For each sample the query layer (`customer_list.list_customers`, what the page calls: the
list's total, counted to 10,001, the page's customers with their owners' names, then their
tags) is timed against its bare SQL (the same three statements by hand, through the
driver), alternating which goes first; then the whole page over HTTP in the test client
(routing, session, query, template), for the p95 a person feels.
"""

from __future__ import annotations

import random
import re
import statistics
import time
from dataclasses import dataclass, field
from typing import Protocol

import sqlalchemy as sa
from flask import g

from crm.extensions import db
from crm.models import Customer, Staff
from crm.models.enums import Quadrant
from crm.services.customers import customer_list
from crm.services.customers.customer_list import CustomerFilters, list_customers

PASSWORD = "bench-password-1"  # of the bank's `bench` and `manager01`
LIST_RATIO_TARGET = 3.0
LIST_P95_TARGET_MS = 50.0
PAGE = 50


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Measured(Protocol):
    backend: str
    lists: list[ListScenario]


@dataclass
class ListScenario:
    name: str
    user: str  # who is signed in
    owner: bool  # filter by one owner (the staff member's own list is filtered by scope)
    deep: bool
    floor_ms: list[float] = field(default_factory=list)
    query_ms: list[float] = field(default_factory=list)
    page_ms: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return statistics.median(self.query_ms) / statistics.median(self.floor_ms)

    @property
    def page_p95(self) -> float:
        return percentile(self.page_ms, 0.95)


SCENARIOS = (
    ("staff: own list, one quadrant, first page", "bench", False, False),
    ("staff: own list, one quadrant, deep page", "bench", False, True),
    ("manager: one owner, one quadrant, first page", "manager01", True, False),
    ("manager: one owner, one quadrant, deep page", "manager01", True, True),
    ("manager: whole branch, one quadrant, deep page", "manager01", False, True),
)


COLUMNS_SQL = (
    "SELECT c.id, c.name, c.quadrant, c.phone, c.liquid_assets, c.willingness, "
    "c.risk_level, s.display_name, c.name_pinyin FROM customer c "
    "JOIN staff s ON s.id = c.owner_id"
)
# The list's total, as the page counts it: to COUNT_UP_TO + 1 at most.
COUNT_SQL = (
    "SELECT count(*) FROM (SELECT c.id FROM customer c WHERE {where} "
    f"LIMIT {customer_list.COUNT_UP_TO + 1}) n"
)


def scope_sql(staff: Staff) -> str:
    return "c.owner_id = :me" if staff.role.value == "staff" else "c.branch_id = :branch"


def _floor_sql(staff: Staff, owner_id: int | None) -> tuple[str, str]:
    """The page's SELECT by hand: the columns it shows, the scope, the filters, the cursor,
    newest first; and the count of the list."""
    owner = " AND c.owner_id = :owner" if owner_id is not None else ""
    where = f"{scope_sql(staff)}{owner} AND c.quadrant = :quadrant"
    return (
        f"{COLUMNS_SQL} WHERE {where} AND c.id < :before ORDER BY c.id DESC LIMIT {PAGE + 1}",
        COUNT_SQL.format(where=where),
    )


TAGS_SQL = (
    "SELECT ct.customer_id, t.name FROM customer_tag ct JOIN tag t ON t.id = ct.tag_id "
    "WHERE ct.customer_id IN ({ids}) ORDER BY t.name"
)


def _floor(sql: str, params: dict, count_sql: str | None = None) -> None:
    """What the page needs, by hand through the driver: the count, its rows, their tags."""
    connection = db.session.connection()
    if count_sql is not None:
        connection.exec_driver_sql(*_positional(count_sql, params)).all()
    rows = connection.exec_driver_sql(*_positional(sql, params)).all()
    if rows:
        ids = ", ".join(str(r[0]) for r in rows)
        connection.exec_driver_sql(TAGS_SQL.format(ids=ids)).all()


def _positional(sql: str, params: dict) -> tuple[str, tuple]:
    """``:name`` parameters in the driver's own style (qmark on SQLite, pyformat on psycopg)."""
    names = re.findall(r":(\w+)", sql)
    marker = "?" if db.engine.dialect.name == "sqlite" else "%s"
    return re.sub(r":\w+", marker, sql), tuple(params[n] for n in names)


def _cursors(staff: Staff, owner_id: int | None, quadrant: Quadrant, deep: bool) -> int:
    """A cursor: past the newest (first page) or one page from the oldest (deep page)."""
    query = sa.select(Customer.id).where(Customer.quadrant == quadrant)
    query = query.where(
        Customer.owner_id == staff.id
        if staff.role.value == "staff"
        else Customer.branch_id == staff.branch_id
    )
    if owner_id is not None:
        query = query.where(Customer.owner_id == owner_id)
    if not deep:
        return (db.session.scalar(query.order_by(Customer.id.desc()).limit(1)) or 0) + 1
    ids = db.session.scalars(query.order_by(Customer.id.asc()).limit(PAGE + 1)).all()
    return ids[-1] if ids else 1


def as_a_new_request() -> None:
    """Forget the signed-in user Flask-Login keeps on ``g``. The benchmarks run inside an app
    context, which the test client's requests share: without this, a request would reuse the
    previous request's user (another client's, after a second log-in) instead of loading its
    own from its cookie, as every real request does."""
    g.pop("_login_user", None)


def log_in(client, username: str) -> None:
    as_a_new_request()
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, f"could not log in as {username}"
    assert g._login_user.username == username, f"could not log in as {username}"


def measure_lists(app, samples: int, log) -> list[ListScenario]:
    measured = []
    rng = random.Random(7)
    quadrants = list(Quadrant)
    for name, username, by_owner, deep in SCENARIOS:
        scenario = ListScenario(name, username, by_owner, deep)
        staff = db.session.scalars(sa.select(Staff).where(Staff.username == username)).one()
        owners = db.session.scalars(
            sa.select(Staff.id).where(Staff.branch_id == staff.branch_id, Staff.role == "staff")
        ).all()
        client = app.test_client()
        log_in(client, username)
        for _ in range(samples):
            quadrant = rng.choice(quadrants)
            owner_id = rng.choice(owners) if by_owner else None
            before = _cursors(staff, owner_id, quadrant, deep)
            params = {
                "me": staff.id,
                "branch": staff.branch_id,
                "owner": owner_id,
                "quadrant": quadrant.value,
                "before": before,
            }
            sql, count_sql = _floor_sql(staff, owner_id)
            filters = CustomerFilters(owner=owner_id, quadrant=quadrant)
            # Alternate which goes first, so neither always meets a warm cache. Both start
            # from a signed-in staff member already loaded, as in a request; neither keeps
            # ORM objects, so there is no identity map to clear between them.
            order = (0, 1) if rng.random() < 0.5 else (1, 0)
            for which in order:
                started = time.perf_counter()
                if which == 0:
                    _floor(sql, params, count_sql)
                    scenario.floor_ms.append((time.perf_counter() - started) * 1000)
                else:
                    list_customers(staff, filters, before=before, page_size=PAGE)
                    scenario.query_ms.append((time.perf_counter() - started) * 1000)
            url = f"/customers?quadrant={quadrant.value}&before={before}"
            if owner_id is not None:
                url += f"&owner={owner_id}"
            as_a_new_request()
            started = time.perf_counter()
            response = client.get(url)
            scenario.page_ms.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, url
        db.session.rollback()
        log(
            f"  {name}: SQL p50 {statistics.median(scenario.floor_ms):.2f} ms, query p50 "
            f"{statistics.median(scenario.query_ms):.2f} ms ({scenario.ratio:.2f}×), "
            f"page p95 {scenario.page_p95:.1f} ms"
        )
        measured.append(scenario)
    return measured


def verdict(ok: bool) -> str:
    return "meets" if ok else "misses"


def list_table(results: list[Measured], p95_target_ms: float = LIST_P95_TARGET_MS) -> str:
    lines = [
        f"| backend | list | SQL p50 ms | query p50 ms | ratio (≤ {LIST_RATIO_TARGET:.0f}) "
        f"| page p50 ms | page p95 ms (≤ {p95_target_ms:.0f}) | verdict |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        for s in r.lists:
            ok = s.ratio <= LIST_RATIO_TARGET and s.page_p95 <= p95_target_ms
            lines.append(
                f"| {r.backend} | {s.name} | {statistics.median(s.floor_ms):.2f} "
                f"| {statistics.median(s.query_ms):.2f} | {s.ratio:.2f} "
                f"| {statistics.median(s.page_ms):.1f} | {s.page_p95:.1f} | {verdict(ok)} |"
            )
    return "\n".join(lines)
