"""The customer list's search box at bank scale, for `bench/web.py` (a million customers) and
`bench/list_scale.py` (ten million): what staff type into it, for a relationship manager
(their own customers) and for an admin (the whole bank).

Eight kinds of search, each sampled many times with a query of its kind drawn afresh: a
common surname (王, 李, 张), a rare two-character prefix (one of the ten rarest surnames and a
given-name character), a customer's full name, their full pinyin, their initials, their
phone's last four digits, three last digits, and a policy number (one customer in ten holds
one). Names, pinyin and phones are those of customers the user may see.

For each sample the query layer (`customer_list.list_customers`, what the page calls) is
timed against its bare SQL: the same statements by hand through the driver, as the search
runs them (`crm.services.customers.search`): the policy number looked up where the query
could be one, the matches counted off the search's index (at most 5,001; a relationship
manager's among their own on PostgreSQL), their ids read when there are no more than
5,000, the list's total (to 10,001; off the search's index where the count was of all the
user may see), then the page (those matches by id, or the list's own index walked with the
name checked on each row, as the count decided) and its tags. Which goes first alternates,
and both must return the same customers. Then the whole page over HTTP in the test client
(a policy number's page is the redirect to its dossier), for the p95 a person feels.
"""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa

from bench.bank import add_policies, holds_policy, policy_number
from bench.common import machine
from bench.lists import (
    COUNT_SQL,
    LIST_P95_TARGET_MS,
    LIST_RATIO_TARGET,
    PAGE,
    PASSWORD,
    TAGS_SQL,
    _positional,
    as_a_new_request,
    log_in,
    percentile,
    verdict,
)
from crm.extensions import db
from crm.models import Customer, Staff
from crm.models.enums import Role
from crm.models.spelling import spell
from crm.services.customers import customer_list, search
from crm.services.customers.customer_list import CustomerFilters, list_customers
from crm.services.simulation.people import GIVEN, SURNAMES

POLICY_EVERY = 10  # one customer in ten holds a policy
ADMIN = "admin01"
KINDS = (
    ("common", "common surname (王, 李, 张)"),
    ("rare", "rare two-character prefix"),
    ("full_name", "full name"),
    ("pinyin", "full pinyin"),
    ("initials", "initials"),
    ("tail4", "phone's last four digits"),
    ("tail3", "phone's last three digits"),
    ("policy", "policy number"),
)
USERS = (("bench", "staff: own customers"), (ADMIN, "admin: whole bank"))
SCENARIOS = tuple((f"{who}, {what}", user, kind) for user, who in USERS for kind, what in KINDS)


@dataclass
class SearchScenario:
    name: str
    user: str
    kind: str
    floor_ms: list[float] = field(default_factory=list)
    query_ms: list[float] = field(default_factory=list)
    page_ms: list[float] = field(default_factory=list)
    walked: int = 0  # samples whose matches were too many to read off the index

    @property
    def ratio(self) -> float:
        return statistics.median(self.query_ms) / statistics.median(self.floor_ms)

    @property
    def page_p95(self) -> float:
        return percentile(self.page_ms, 0.95)


def prepare_searches(owners: int, log) -> None:
    """An admin who can log in, and policies for one customer in ten and each of the
    ``owners`` staff members' first."""
    if db.session.scalar(sa.select(Staff.id).where(Staff.username == ADMIN)) is None:
        admin = Staff(username=ADMIN, display_name="Admin 1", role=Role.ADMIN, password_hash="!")
        admin.set_password(PASSWORD)
        db.session.add(admin)
        db.session.commit()
    started = time.perf_counter()
    policies = add_policies(POLICY_EVERY, owners)
    log(f"  {policies:,} policies added in {time.perf_counter() - started:.1f} s")


# --- what is typed ---------------------------------------------------------------------------


class Queries:
    """Queries of each kind for one user, from the customers that user may see."""

    def __init__(self, staff: Staff, rng: random.Random, owners: int):
        self.rng = rng
        if staff.role == Role.STAFF:
            self.ids = db.session.scalars(
                sa.select(Customer.id).where(Customer.owner_id == staff.id)
            ).all()
        else:
            low, high = db.session.execute(
                sa.select(sa.func.min(Customer.id), sa.func.max(Customer.id))
            ).one()
            self.ids = range(low, high + 1)
        self.holders = [i for i in self.ids if holds_policy(i, POLICY_EVERY, owners)]

    def customer(self) -> tuple[str, str]:
        return db.session.execute(
            sa.select(Customer.name, Customer.phone_last4).where(
                Customer.id == self.rng.choice(self.ids)
            )
        ).one()

    def draw(self, kind: str) -> str:
        rng = self.rng
        match kind:
            case "common":
                return rng.choice("王李张")
            case "rare":
                return rng.choice(SURNAMES[-10:]) + rng.choice(GIVEN)
            case "full_name":
                return self.customer()[0]
            case "pinyin":
                return spell(self.customer()[0]).pinyin
            case "initials":
                return spell(self.customer()[0]).initials
            case "tail4":
                return self.customer()[1]
            case "tail3":
                return f"{rng.randrange(1000):03d}"
            case "policy":
                return policy_number(rng.choice(self.holders))
        raise ValueError(kind)


# --- the bare SQL ----------------------------------------------------------------------------

PAGE_SQL = (
    "SELECT c.id, c.name, c.quadrant, c.phone, c.liquid_assets, c.willingness, c.risk_level, "
    "s.display_name, c.name_pinyin FROM customer c JOIN staff s ON s.id = c.owner_id "
    "WHERE {scope}{where} "
    f"ORDER BY c.id DESC LIMIT {PAGE + 1}"
)
HOLDER_SQL = (
    "SELECT p.customer_id FROM policy p JOIN customer c ON c.id = p.customer_id "
    "WHERE p.policy_number = :number{scope}"
)
LIMIT = search.WALK_ABOVE + 1
# The matches, counted among a relationship manager's own ({own}) or in the whole bank.
NAME_IDS = "SELECT id FROM customer WHERE {own}name >= :lo AND name < :hi LIMIT {limit}"
# Pinyin or initials: each range read on its own, the ids joined (search.ids_of_either).
SPELLED_IDS = (
    "SELECT a.id FROM (SELECT id FROM customer WHERE {own}name_pinyin >= :lo AND "
    "name_pinyin < :hi LIMIT {limit}) a UNION SELECT b.id FROM (SELECT id FROM customer "
    "WHERE {own}name_initials >= :lo AND name_initials < :hi LIMIT {limit}) b"
)
TAIL3_IDS = "SELECT id FROM customer WHERE {own}phone_last4 IN ({last4s}) LIMIT {limit}"
TOTAL = customer_list.COUNT_UP_TO + 1
WALKS = {
    "name": "substr(c.name, 1, :n) = :lo",
    "spelled": "(substr(c.name_pinyin, 1, :n) = :lo OR substr(c.name_initials, 1, :n) = :lo)",
    "tail3": "c.phone LIKE :tail",
}
# A walk's condition as the list's count reads it: off the search's index, not row by row;
# pinyin or initials as the matches' ids are read.
COUNTED = {
    WALKS["name"]: "c.name >= :lo AND c.name < :hi",
    WALKS["tail3"]: "c.phone_last4 IN ({last4s})",
}
SPELLED_TOTAL = f"SELECT count(*) FROM (SELECT id FROM ({SPELLED_IDS}) u LIMIT {{limit}}) n"
WALKED = {"name_walk", "spelling_walk", "phone_end"}  # the search's conditions that walk
FAMILY = {
    "common": "name",
    "rare": "name",
    "full_name": "name",
    "pinyin": "spelled",
    "initials": "spelled",
    "tail3": "tail3",
}


def _run(connection, sql: str, params: dict) -> list[tuple]:
    return connection.exec_driver_sql(*_positional(sql, params)).all()


def floor(staff: Staff, kind: str, q: str) -> list[int]:
    """The page by hand: the statements the search runs for ``q``; the page's ids."""
    connection = db.session.connection()
    own = staff.role == Role.STAFF
    params: dict[str, object] = {"me": staff.id, "number": q, "lo": q, "n": len(q)}
    scope = "c.owner_id = :me AND " if own else ""
    where, last4s = None, ""
    counted_as = None  # a search's matches are counted off its index, walked or read by id
    if kind in ("policy", "tail4"):  # both could be policy numbers
        holder = _run(connection, HOLDER_SQL.format(scope=" AND c.owner_id = :me" * own), params)
        if holder:
            where, params["holder"] = "c.id = :holder", holder[0][0]
        elif kind == "tail4":
            where = "c.phone_last4 = :lo"
    elif kind in FAMILY:
        family = FAMILY[kind]
        if family == "tail3":
            last4s = ", ".join(f"'{d}{q}'" for d in range(10))
            matches = TAIL3_IDS.format(own="{own}", last4s=last4s, limit=LIMIT)
            params["tail"] = "%" + q
        else:
            params["hi"] = q[:-1] + chr(ord(q[-1]) + 1)
            matches = NAME_IDS if family == "name" else SPELLED_IDS
        # Among the manager's own on PostgreSQL, whose owner's index carries the names.
        among_own = own and connection.dialect.name == "postgresql"
        matches = matches.format(own="owner_id = :me AND " * among_own, limit=LIMIT)
        (found,) = _run(connection, f"SELECT count(*) FROM ({matches}) m", params)[0]
        # The total counts them off the search's index if those were all the user may see.
        counted_as = WALKS[family] if among_own or not own else None
        if found > search.WALK_ABOVE:
            counted_as = WALKS[family]
            where = WALKS[family]
        elif found:
            ids = sorted((i for (i,) in _run(connection, matches, params)), reverse=True)
            if connection.dialect.name == "postgresql":  # one array, as the search sends
                params["ids"], where = ids, "c.id = ANY(:ids)"
            else:
                params |= {f"id{n}": i for n, i in enumerate(ids)}
                where = f"c.id IN ({', '.join(f':id{n}' for n in range(len(ids)))})"
    if where is None:
        return []
    counted_as = counted_as or where
    if counted_as == WALKS["spelled"]:
        _run(connection, SPELLED_TOTAL.format(own="owner_id = :me AND " * own, limit=TOTAL), params)
    else:
        counted = f"{scope}{COUNTED.get(counted_as, counted_as).format(last4s=last4s)}"
        _run(connection, COUNT_SQL.format(where=counted), params)
    rows = _run(connection, PAGE_SQL.format(scope=scope, where=where), params)
    if rows:
        connection.exec_driver_sql(TAGS_SQL.format(ids=", ".join(str(r[0]) for r in rows))).all()
    return [r[0] for r in rows]


# --- measuring -------------------------------------------------------------------------------


def measure_searches(app, samples: int, owners: int, log) -> list[SearchScenario]:
    measured = []
    rng = random.Random(13)
    for name, username, kind in SCENARIOS:
        scenario = SearchScenario(name, username, kind)
        staff = db.session.scalars(sa.select(Staff).where(Staff.username == username)).one()
        queries = Queries(staff, rng, owners)
        client = app.test_client()
        log_in(client, username)
        for _ in range(samples):
            q = queries.draw(kind)
            filters = CustomerFilters(q=q)
            order = (0, 1) if rng.random() < 0.5 else (1, 0)
            for which in order:
                started = time.perf_counter()
                if which == 0:
                    by_hand = floor(staff, kind, q)
                    scenario.floor_ms.append((time.perf_counter() - started) * 1000)
                else:
                    page = list_customers(staff, filters, page_size=PAGE)
                    scenario.query_ms.append((time.perf_counter() - started) * 1000)
            if [c.id for c in page.customers] != by_hand[:PAGE]:  # the SQL reads one more
                raise AssertionError(f"{name}: {q!r} found other customers than its SQL")
            scenario.walked += not WALKED.isdisjoint(search.resolve(staff, q).shape)
            as_a_new_request()
            started = time.perf_counter()
            response = client.get("/customers", query_string={"q": q})
            scenario.page_ms.append((time.perf_counter() - started) * 1000)
            assert response.status_code == (302 if kind == "policy" else 200), q
        db.session.rollback()
        log(
            f"  {name}: SQL p50 {statistics.median(scenario.floor_ms):.2f} ms, query p50 "
            f"{statistics.median(scenario.query_ms):.2f} ms ({scenario.ratio:.2f}×), "
            f"page p95 {scenario.page_p95:.1f} ms, walked {scenario.walked} of {samples}"
        )
        measured.append(scenario)
    return measured


# --- reporting -------------------------------------------------------------------------------


def search_table(results, p95_target_ms: float = LIST_P95_TARGET_MS) -> str:
    lines = [
        f"| backend | search | SQL p50 ms | query p50 ms | ratio (≤ {LIST_RATIO_TARGET:.0f}) "
        f"| page p50 ms | page p95 ms (≤ {p95_target_ms:.0f}) | walked | verdict |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        for s in r.searches:
            ok = s.ratio <= LIST_RATIO_TARGET and s.page_p95 <= p95_target_ms
            lines.append(
                f"| {r.backend} | {s.name} | {statistics.median(s.floor_ms):.2f} "
                f"| {statistics.median(s.query_ms):.2f} | {s.ratio:.2f} "
                f"| {statistics.median(s.page_ms):.1f} | {s.page_p95:.1f} "
                f"| {s.walked}/{len(s.page_ms)} | {verdict(ok)} |"
            )
    return "\n".join(lines)


def summary_rows(results, p95_target_ms: float = LIST_P95_TARGET_MS, at: str = ""):
    """(measure, backend, target, measured, verdict) for the report's summary table."""
    rows = []
    for r in results:
        if not r.searches:
            continue
        worst_ratio = max(r.searches, key=lambda s: s.ratio)
        worst_p95 = max(r.searches, key=lambda s: s.page_p95)
        n = len(r.searches)
        rows += [
            (
                f"customer search query vs its SQL{at} (worst of {n})",
                r.backend,
                f"≤ {LIST_RATIO_TARGET:.0f}×",
                f"{worst_ratio.ratio:.2f}×",
                verdict(worst_ratio.ratio <= LIST_RATIO_TARGET),
            ),
            (
                f"customer search page p95{at} (worst of {n})",
                r.backend,
                f"≤ {p95_target_ms:.0f} ms",
                f"{worst_p95.page_p95:.1f} ms",
                verdict(worst_p95.page_p95 <= p95_target_ms),
            ),
        ]
    return rows


def render_section(
    heading: str, results, command: str, samples: int, p95_target_ms: float, owners: int
) -> str:
    first = results[0]
    return f"""{heading}

Requirement: at {first.customers:,} customers, each search of the customer list's box (a
common surname, a rare two-character prefix, a full name, full pinyin, initials, a phone's
last four and last three digits, a policy number; for a relationship manager and for an
admin) at most 3× its bare SQL at p50, with the page's p95 at most {p95_target_ms:.0f} ms
(`bench/searches.py`; its docstring says what is measured and against what).

- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC
- Machine: {machine({r.backend: r.version for r in results})}
- Customers: {first.customers:,} among {owners} staff (the relationship manager's own:
  {first.customers // owners:,}), Chinese names drawn by census-like surname shares (王 7%);
  one in {POLICY_EVERY} holds a policy (and each staff member's first customer).
- {samples} samples per search, each a query of its kind drawn afresh. "Walked": samples
  with more than {search.WALK_ABOVE:,} matches, whose page walks the list's own index
  instead of reading the matches by id.

{search_table(results, p95_target_ms)}

Rerun: `{command}`
"""
