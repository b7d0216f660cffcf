"""The customer list: search, filters, sorting, a total and keyset pagination that stays fast
on large tables.

Pages walk an index (newest first by default, else the sort's column, then the id) with
``before``/``after`` cursors instead of OFFSET, so page 2,000 costs what page 1 costs. The
total is counted to ``COUNT_UP_TO`` and no further: "10,000+" costs what 10,000 costs.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import NamedTuple

import sqlalchemy as sa

from crm.core.access import scope_clause, scope_of
from crm.core.inputs import as_id, printable
from crm.extensions import db
from crm.models import Customer, Staff, Tag, customer_tag
from crm.models.enums import Channel, ChurnLevel, Quadrant, RiskLevel
from crm.services.customers import asset_tiers, list_tags, search
from crm.services.customers.list_sorts import NONE, SORTS, cursor_of, nullable_page, read_cursor


@dataclass(frozen=True)
class CustomerFilters:
    q: str = ""
    branch: int | None = None
    owner: int | None = None
    tag: str = ""
    risk: RiskLevel | None = None
    quadrant: Quadrant | None = None
    channel: Channel | None = None
    churn: ChurnLevel | None = None  # the churn risk level (流失风险)
    tier: int | None = None  # the asset tier's number (资产分层, ``asset_tiers``)
    sort: str = ""  # a key of SORTS; empty: newest first

    @classmethod
    def from_args(cls, args) -> CustomerFilters:
        """Read filters from query parameters, ignoring values that do not parse."""

        def member(enum, name):
            try:
                return enum(args.get(name, ""))
            except ValueError:
                return None

        return cls(
            # Full-width digits from a Chinese input method search like ASCII ones.
            q=search.clean(args.get("q")),
            branch=as_id(args.get("branch")),
            owner=as_id(args.get("owner")),
            tag=printable(args.get("tag")).strip()[:40],
            risk=member(RiskLevel, "risk"),
            quadrant=member(Quadrant, "quadrant"),
            channel=member(Channel, "channel"),
            churn=member(ChurnLevel, "churn"),
            tier=as_id(args.get("tier")),
            # An unknown sort (an old bookmark, a typo) is the default order, not an error.
            sort=args.get("sort", "") if args.get("sort", "") in SORTS else "",
        )

    def as_args(self) -> dict[str, str]:
        args = {
            "q": self.q,
            "branch": self.branch,
            "owner": self.owner,
            "tag": self.tag,
            "risk": self.risk.value if self.risk else None,
            "quadrant": self.quadrant.value if self.quadrant else None,
            "channel": self.channel.value if self.channel else None,
            "churn": self.churn.value if self.churn else None,
            "tier": self.tier,
            "sort": self.sort,
        }
        return {k: str(v) for k, v in args.items() if v not in (None, "")}


class Listed(NamedTuple):
    """One row of the list page: what it shows and nothing more. A page of full dossiers
    would cost many times its SQL in object loading; these cost little more than the SQL."""

    id: int
    name: str
    quadrant: Quadrant
    phone: str
    liquid_assets: Decimal
    willingness: int
    risk_level: RiskLevel
    owner_name: str
    name_pinyin: str  # the name's sort key (pinyin order, as a phone's contacts)
    last_contact_on: date | None  # crm.services.planning.contact_dates
    next_planned_on: date | None
    tags: tuple[str, ...] = ()


LISTED_COLUMNS = (
    Customer.id,
    Customer.name,
    Customer.quadrant,
    Customer.phone,
    Customer.liquid_assets,
    Customer.willingness,
    Customer.risk_level,
    Staff.display_name,
    Customer.name_pinyin,
    Customer.last_contact_on,
    Customer.next_planned_on,
)


COUNT_UP_TO = 10_000

# A page's statements are built once per *shape* (who looks, which filters are set, which way
# the cursor goes) with bound parameters for every value, and reused: building, caching and
# re-adapting a fresh statement per request cost three times the SQL itself.
Shape = tuple[str, ...]
FILTERED_COLUMNS = {
    "branch": "branch_id",
    "owner": "owner_id",
    "risk": "risk_level",
    "quadrant": "quadrant",
    "channel": "channel",
    "churn": "churn_level",
}


def _shape(
    user: Staff, filters: CustomerFilters
) -> tuple[Shape, dict[str, object], search.Resolved]:
    """The names of the conditions that apply, the values of their parameters, and how the
    search box was read (``search.resolve``)."""
    shape: list[str] = []
    values: dict[str, object] = {}
    kind, scope = scope_of(user)
    if kind != "all":
        shape.append(f"scope_{kind}")
        values["scope"] = scope
    found = search.resolve(user, filters.q)
    shape.extend(found.shape)
    values.update(found.values)
    for name in (*FILTERED_COLUMNS, "tag"):
        value = getattr(filters, name)
        if value not in (None, ""):
            shape.append(name)
            values[name] = value
    # An asset tier is a range of liquid assets; an unknown tier is ignored. The bounds are
    # read only when a tier is asked for: a statement less for every other list.
    tiers = asset_tiers.current_tiers() if filters.tier is not None else []
    tier = next((t for t in tiers if t.number == filters.tier), None)
    if tier is not None:
        shape.append("tier_low")
        values["tier_low"] = tier.low
        if tier.high is not None:
            shape.append("tier_high")
            values["tier_high"] = tier.high
    if filters.tag:
        # The tag's id, bound as a value (``list_tags.TAG_ID`` says why); a tag no one
        # carries has no id: 0 matches no one.
        values["tag_id"] = db.session.scalar(sa.select(Tag.id).where(Tag.name == filters.tag)) or 0
    return tuple(shape), values, found


def _condition(name: str) -> sa.ColumnElement[bool]:
    """The condition called ``name`` in a shape, on bound parameters of the same names."""
    searched = search.condition(name)
    if searched is not None:
        return searched
    match name:
        case "scope_branch" | "scope_owner" | "scope_none":
            return scope_clause(name.removeprefix("scope_"), sa.bindparam("scope"))
        case "branch" | "owner" | "risk" | "quadrant" | "channel" | "churn":
            return getattr(Customer, FILTERED_COLUMNS[name]) == sa.bindparam(name)
        case "tier_low":
            return Customer.liquid_assets >= sa.bindparam("tier_low", type_=_MONEY)
        case "tier_high":
            return Customer.liquid_assets < sa.bindparam("tier_high", type_=_MONEY)
        case "tag":
            return list_tags.probe()  # ``list_tags.walks_tag`` says when the links are walked
    raise ValueError(name)


_MONEY = Customer.liquid_assets.type


def filtered_query(user: Staff, filters: CustomerFilters) -> sa.Select:
    """The customers ``user`` may see under ``filters``, as a statement to refine (export, API)."""
    shape, values, _ = _shape(user, filters)
    return sa.select(Customer).where(*map(_condition, shape)).params(values)


@functools.lru_cache(maxsize=512)
def _page_statement(
    shape: Shape, newer: bool, cursor: bool, size: int, sort: str = "", among_none: bool = False
) -> sa.Select:
    """A page (``size`` + 1 rows, to know whether there is more) of one shape of list:
    ``newer`` walks back towards the list's start (from an ``after`` cursor); ``among_none``:
    the cursor is a row without a value of a sort that may have none."""
    conditions = [_condition(name) for name in shape]
    by = SORTS.get(sort)
    keys = (Customer.id,) if by is None else (by.column, Customer.id)
    listed = sa.select(*LISTED_COLUMNS)
    if list_tags.walks_tag(shape, sort):
        on_link = list_tags.ON_THE_LINK
        conditions = [on_link[n]() if n in on_link else _condition(n) for n in shape]
        keys = (customer_tag.c.customer_id,)
        listed = list_tags.walked(listed)
    descending = True if by is None else by.descending
    ascending = descending == newer  # the direction this statement walks
    # The page size is written into the SQL, not bound: PostgreSQL plans a LIMIT it cannot
    # see for a tenth of the matching rows, and for a whole branch's list then walks every
    # staff member's index (1.7 ms against 0.4 ms at a million customers). The size is part
    # of the cache key above, so the text stays the same from page to page.
    limit = sa.bindparam("page_limit", size + 1, literal_execute=True)
    if by is not None and by.nullable:
        listed = listed.join(Staff, Staff.id == Customer.owner_id).where(*conditions)
        return nullable_page(listed, by, ascending, newer, cursor, among_none, limit)
    if cursor:
        mark = (sa.bindparam("cursor"),)
        if by is not None:
            mark = (sa.bindparam("cursor_value", type_=by.column.type), *mark)
        conditions.append(
            sa.tuple_(*keys) > sa.tuple_(*mark)
            if ascending
            else sa.tuple_(*keys) < sa.tuple_(*mark)
        )
    return (
        listed.join(Staff, Staff.id == Customer.owner_id)
        .where(*conditions)
        .order_by(*(k.asc() if ascending else k.desc() for k in keys))
        .limit(limit)
    )


def _counted_condition(name: str) -> sa.ColumnElement[bool]:
    counted = search.counted_condition(name)
    return _condition(name) if counted is None else counted


def _counted_shape(shape: Shape, found: search.Resolved) -> Shape:
    """The shape the list's total counts: the ids a search read are all its matches, so they
    are counted as the search's own condition, a range of its index, not one by one by id
    (the page of 4,503 matches at ten million customers: 54 ms counted by id, 28 ms so)."""
    if not found.counted:
        return shape
    return tuple(name for name in shape if name not in search.BY_ID) + found.counted


@functools.lru_cache(maxsize=512)
def _count_statement(shape: Shape) -> sa.Select:
    """How many customers a shape of list holds, counting no further than ``COUNT_UP_TO`` + 1:
    an index read of 10,001 entries at most, whatever the size of the bank."""
    limit = sa.bindparam("count_limit", COUNT_UP_TO + 1, literal_execute=True)
    apart = next((name for name in shape if search.counted_apart(name)), None)
    if list_tags.walks_tag(shape):
        on_link = [name for name in shape if name in list_tags.ON_THE_LINK]
        others = [_counted_condition(name) for name in shape if name not in on_link]
        matching = list_tags.counted(others, on_link).limit(limit)
    elif apart is not None:
        others = [_counted_condition(name) for name in shape if name != apart]
        either = search.ids_of_either(search.counted_apart(apart), others, limit).subquery()
        matching = sa.select(either.c.id).limit(limit)
    else:
        conditions = [_counted_condition(name) for name in shape]
        matching = sa.select(Customer.id).where(*conditions).limit(limit)
    return sa.select(sa.func.count()).select_from(matching.subquery())


TAGS_OF = (
    sa.select(customer_tag.c.customer_id, Tag.name)
    .join(Tag, Tag.id == customer_tag.c.tag_id)
    .where(customer_tag.c.customer_id.in_(sa.bindparam("ids", expanding=True)))
    .order_by(Tag.name)
)


def _listed(statement: sa.Select, values: dict[str, object]) -> list[Listed]:
    """The page's rows, then the tags of those customers: two statements. A list page only
    reads, so they run on the session's connection without the ORM's bookkeeping."""
    connection = db.session.connection()
    rows = connection.execute(statement, values).all()
    tags: dict[int, list[str]] = {}
    if rows:
        for customer_id, name in connection.execute(TAGS_OF, {"ids": [r[0] for r in rows]}):
            tags.setdefault(customer_id, []).append(name)
    return [Listed(*row, tuple(tags.get(row[0], ()))) for row in rows]


@dataclass
class Page:
    customers: list[Listed]
    next_cursor: int | str | None = None
    prev_cursor: int | str | None = None
    filters: CustomerFilters = field(default_factory=CustomerFilters)
    message: str | None = None  # why the search found nothing without looking
    policy_customer: int | None = None  # the search was this customer's policy number
    total: int = 0  # how many match, counted to COUNT_UP_TO + 1 at most

    @property
    def total_is_exact(self) -> bool:
        return self.total <= COUNT_UP_TO


def list_customers(
    user: Staff,
    filters: CustomerFilters,
    *,
    before: int | str | None = None,
    after: int | str | None = None,
    page_size: int = 50,
) -> Page:
    """One page of the customers ``user`` may see, in the order ``filters.sort`` names
    (newest first by default), with how many there are in all."""
    shape, values, found = _shape(user, filters)
    page = functools.partial(
        Page, filters=filters, message=found.message, policy_customer=found.policy_customer
    )
    if "no_match" in shape or values.get("search_ids") == []:
        return page(customers=[])
    sort = filters.sort
    connection = db.session.connection()
    counted = _count_statement(_counted_shape(shape, found))
    total = connection.execute(counted, values).scalar_one()
    page = functools.partial(page, total=total)
    before_at, after_at = read_cursor(sort, before), read_cursor(sort, after)
    if "search_ids" in values and not sort:
        # The search's few matches, newest first: only those past the cursor can be on this
        # page (in any other order the cursor is a condition of the statement).
        ids = values["search_ids"]
        if before_at is not None:
            ids = [i for i in ids if i < before_at[0]]
        if after_at is not None:
            ids = [i for i in ids if i > after_at[0]]
        if not ids:
            return page(customers=[])
        values["search_ids"] = ids

    def at(cursor: tuple[int, object]) -> dict[str, object]:
        value = None if cursor[1] is NONE else cursor[1]
        return {**values, "cursor": cursor[0], "cursor_value": value}

    if after_at is not None:
        among_none = after_at[1] is NONE
        statement = _page_statement(shape, True, True, page_size, sort, among_none)
        rows = _listed(statement, at(after_at))
        more_newer = len(rows) > page_size
        rows = list(reversed(rows[:page_size]))
        return page(
            customers=rows,
            prev_cursor=cursor_of(sort, rows[0]) if rows and more_newer else None,
            next_cursor=cursor_of(sort, rows[-1]) if rows else None,
        )
    among_none = before_at is not None and before_at[1] is NONE
    statement = _page_statement(shape, False, before_at is not None, page_size, sort, among_none)
    rows = _listed(statement, at(before_at) if before_at is not None else values)
    more_older = len(rows) > page_size
    rows = rows[:page_size]
    return page(
        customers=rows,
        next_cursor=cursor_of(sort, rows[-1]) if rows and more_older else None,
        prev_cursor=cursor_of(sort, rows[0]) if rows and before_at is not None else None,
    )


@functools.lru_cache(maxsize=128)
def _two_ids_statement(shape: Shape) -> sa.Select:
    return sa.select(Customer.id).where(*map(_condition, shape)).limit(2)


def sole_match(user: Staff, q: str) -> tuple[int | None, bool]:
    """The one customer search ``q`` finds among those ``user`` may see, and whether it was by
    policy number; (None, False) when it finds none or several. The header's search box asks
    only this, so it reads two ids at most: no page, no tags, no total."""
    shape, values, found = _shape(user, CustomerFilters(q=q))
    if found.policy_customer is not None:
        return found.policy_customer, True
    if "no_match" in shape or not found.shape or values.get("search_ids") == []:
        return None, False
    ids = db.session.connection().execute(_two_ids_statement(shape), values).scalars().all()
    return (ids[0] if len(ids) == 1 else None), False
