"""The customer list's search box (客户搜索): names, pinyin, initials, phone tails and policy
numbers from one box, answered off an index at any size of bank.

What the text is read as, in this order:

- a policy number (保单号), exactly, of a customer the user may see: that customer (the list
  page goes straight to the dossier);
- digits (spaces and dashes allowed): the phone number's last digits;
- Chinese characters, then Latin letters: the name's beginning, then how the rest of it is
  spelled (张s: 张三, 张帅; as pinyin or initials, so 张sf finds 张少峰 too);
- Latin letters: the name's pinyin (zhangsan, zhang san) or initials (zs), from the start;
- anything else, Chinese names above all: the name's beginning as typed (张, 张三; ``%`` and
  ``_`` are characters like any other).

Why it stays fast on a large table. A prefix is a range of an index (``name >= '王' AND
name < '玌'``), but the list shows the newest customers first, which the range does not give.
So the matches are counted off the index first, reading at most ``WALK_ABOVE`` + 1 entries of
it and nothing else: if there are no more than that, their ids are read and the page is
those customers, by id (a rare prefix costs what its matches cost); if there are more,
matches are common enough that walking the list's own index, newest first, meets a page of
them soon (王 at a million customers: about 700 rows for 50), and the name is checked on the
way.

On PostgreSQL a relationship manager's matches are counted among their own customers, off
their own index, which carries the name, initials and phone's last four digits (migration
0028): their customers lie one to a page of the table, and the whole bank's count said
nothing of theirs (10,000 phones end 123 at ten million customers, twenty of them theirs, so
the list walked all 20,000 of their rows to find those twenty). SQLite has no such index:
counted among their own, a full name read each of their rows (13 ms at a million customers,
1 ms off the whole bank's index), so there, as for a branch, the matches are counted in the
whole bank, which bounds theirs.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql

from crm.core.access import scope_clause, scope_of
from crm.core.inputs import printable
from crm.extensions import db
from crm.models import Customer, Policy, Staff
from crm.models.spelling import fold, spell

MAX_QUERY = 60  # the longest name; a longer search cannot match one
# At most this many matches are read off a search's index; beyond it the list walks its own
# index instead. The two costs meet near the square root of 50 × the bank's size (some 7,000
# at a million customers); below it both are a few milliseconds.
WALK_ABOVE = 5000

_HAN = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_MIXED = re.compile(rf"([{_HAN}]+)\s*([a-z][a-z\s'·.\-]*)")
_SPELLED = re.compile(r"[a-z][a-z\s'·.\-]*")
_PHONE = re.compile(r"\+?[0-9][0-9\s\-]*")
_POLICY = re.compile(r"[A-Z0-9][A-Z0-9\-/]{3,39}")
_SURROGATES = re.compile("[\ud800-\udfff]")
_BETWEEN_HAN = re.compile(rf"(?<=[{_HAN}])\s+(?=[{_HAN}])")


def clean(text: str | None) -> str:
    """A search as typed, tidied: full width to half (a Chinese input method's １２３４),
    control characters and runs of spaces to one space, at most one character too long."""
    text = printable(unicodedata.normalize("NFKC", _SURROGATES.sub("", text or "")))
    return " ".join(text.split())[: MAX_QUERY + 1]


@dataclass(frozen=True)
class Resolved:
    """A search, read: the names of its conditions (``condition``) and their values."""

    shape: tuple[str, ...] = ()
    values: dict[str, object] = field(default_factory=dict)
    message: str | None = None  # why nothing was searched
    policy_customer: int | None = None  # the search was this customer's policy number
    # The conditions the list's total counts instead of the ids read: the same customers,
    # counted off the search's index rather than one by one by id.
    counted: tuple[str, ...] = ()


NO_MATCH = Resolved(("no_match",))
BY_ID = ("search_ids", "search_id_array")  # the conditions of matches read by id


def resolve(user: Staff, q: str) -> Resolved:
    """What ``q`` finds among the customers ``user`` may see, as conditions on the list."""
    text = clean(q)
    if not text:
        return Resolved()
    if len(text) > MAX_QUERY:
        return Resolved(
            ("no_match",), message=_l("Search for at most %(n)d characters.", n=MAX_QUERY)
        )
    holder = policy_holder(user, text)
    if holder is not None:
        return Resolved(("policy",), {"policy_customer": holder}, policy_customer=holder)
    kind, scope = scope_of(user)
    own = kind == "owner" and db.engine.dialect.name == "postgresql"
    probe = _Probe(scope if own else None, seen=own or kind == "all")
    if _PHONE.fullmatch(text):
        return _phone(probe, re.sub(r"[^0-9]", "", text))
    folded = fold(text)
    if mixed := _MIXED.fullmatch(folded):
        return _name_then_spelling(probe, mixed[1], _letters(mixed[2]))
    if _SPELLED.fullmatch(folded):
        key = _letters(folded)
        return probe("spelling", _spelling_values(key, key), ("spelling_walk",))
    return _name(probe, text)


def policy_holder(user: Staff, text: str) -> int | None:
    """The customer holding policy number ``text``, if ``user`` may see them."""
    number = clean(text).replace(" ", "").upper()
    if not _POLICY.fullmatch(number) or not any(c.isdigit() for c in number):
        return None
    kind, scope = scope_of(user)
    return db.session.scalar(_holder_statement(kind), {"number": number, "scope": scope})


@functools.cache
def _holder_statement(kind: str) -> sa.Select:
    return (
        sa.select(Policy.customer_id)
        .join(Customer, Customer.id == Policy.customer_id)
        .where(Policy.policy_number == sa.bindparam("number"))
        .where(scope_clause(kind, sa.bindparam("scope")))
    )


def _letters(text: str) -> str:
    return "".join(re.findall("[a-z]+", text))


def _phone(probe: _Probe, digits: str) -> Resolved:
    if len(digits) > 4:
        return Resolved(("phone_tail",), {"phone_last4": digits[-4:], "phone_tail": "%" + digits})
    if len(digits) == 4:
        return Resolved(("phone_last4",), {"phone_last4": digits})
    # The last-fours these digits end (ten for three digits, a thousand for one): the list's
    # count reads them off the index; checked row by row, a count of a tail shared by 10,000
    # customers read the whole table (seconds at ten million).
    last4s = [f"{n:0{4 - len(digits)}d}{digits}" for n in range(10 ** (4 - len(digits)))]
    ends = {"last4s": last4s, "phone_tail": "%" + digits}
    if len(digits) == 3:
        return probe("last4", ends, ("phone_end",))
    # One or two digits match a tenth or a hundredth of the bank: walking finds them at once.
    return Resolved(("phone_end",), ends)


def _name(probe: _Probe, text: str) -> Resolved:
    # 张 三 is 张三: names are written without spaces between Chinese characters.
    prefix = _BETWEEN_HAN.sub("", text)
    values = _prefix_values("name", prefix)
    return NO_MATCH if values is None else probe("name", values, ("name_walk",))


def _name_then_spelling(probe: _Probe, han: str, letters: str) -> Resolved:
    """张s: names beginning 张 whose pinyin or initials go on with s."""
    start = spell(han)
    spelled = _spelling_values(start.pinyin + letters, start.initials + letters)
    values = _prefix_values("name", han)
    if values is None or spelled is None:
        return NO_MATCH
    return probe("name", values | spelled, ("name_walk",), also=("spelling_walk",))


def _spelling_values(pinyin: str, initials: str) -> dict[str, object] | None:
    pinyin_values = _prefix_values("pinyin", pinyin)
    initials_values = _prefix_values("initials", initials)
    if pinyin_values is None or initials_values is None:
        return None
    return pinyin_values | initials_values


def _prefix_values(name: str, prefix: str) -> dict[str, object] | None:
    """The range of strings beginning with ``prefix``: from it to the first string past
    them all (its last character's successor), and its length for checking it row by row."""
    for end in range(len(prefix) - 1, -1, -1):
        code = ord(prefix[end]) + 1
        if code <= 0x10FFFF:
            after = prefix[:end] + chr(0xE000 if 0xD800 <= code <= 0xDFFF else code)
            return {f"{name}_from": prefix, f"{name}_to": after, f"{name}_length": len(prefix)}
    return None  # empty, or only U+10FFFF: nothing is stored so


@dataclass(frozen=True)
class _Probe:
    """Counts a search's matches off its index before the list reads them: among the
    relationship manager ``owner``'s own customers, or else in the whole bank."""

    owner: int | None
    # Whether those are the customers the user may see, no more: then the list's total may
    # count the matches as the search's own condition (``Resolved.counted``). Otherwise the
    # ids are the bank's and the total counts those in the user's scope, by id: on SQLite a
    # range within an owner read each of the owner's rows.
    seen: bool

    def __call__(
        self, kind: str, values: dict | None, walk: tuple[str, ...], also: tuple[str, ...] = ()
    ) -> Resolved:
        """Count the matches (at most ``WALK_ABOVE`` + 1 of them): few, and their ids are
        read (from the index again) for the list to read them by id; many, and the list
        walks its own index checking each row. Counting first spares a common prefix the
        transfer of thousands of ids it would not use."""
        if values is None:
            return NO_MATCH
        connection = db.session.connection()
        # The limit is a parameter, not built into the cached statements, so they always
        # probe as far as WALK_ABOVE says now.
        probe = {**values, "probe_limit": WALK_ABOVE + 1, "probe_owner": self.owner}
        own = self.owner is not None
        found = connection.execute(_count_statement(kind, own), probe).scalar_one()
        if found > WALK_ABOVE:
            return Resolved(walk + also, values)
        if not found:
            return NO_MATCH
        ids = connection.execute(_probe_statement(kind, own), probe).scalars().all()
        # PostgreSQL takes the ids as one array: a page among 5,000 ids took 20 ms with each
        # id a parameter of its own (sent, parsed and planned one by one), 4 ms with one array.
        among = BY_ID[1] if connection.dialect.name == "postgresql" else BY_ID[0]
        ids = sorted(set(ids), reverse=True)
        counted = walk if self.seen else ()
        return Resolved((among, *also), {**values, "search_ids": ids}, counted=counted)


def _probe_limit() -> sa.BindParameter:
    # Written into the SQL, as the page size is (customer_list._page_statement).
    return sa.bindparam("probe_limit", type_=sa.Integer, literal_execute=True)


def _owned(own: bool) -> list[sa.ColumnElement[bool]]:
    return [Customer.owner_id == sa.bindparam("probe_owner")] if own else []


def _matching_ids(own: bool, *conditions) -> sa.Select:
    return sa.select(Customer.id).where(*conditions, *_owned(own)).limit(_probe_limit())


def ids_of_either(alternatives, others, limit) -> sa.CompoundSelect:
    """The ids of customers matching all ``others`` and any of ``alternatives``, each
    alternative read on its own, to ``limit``, and the ids joined: together more than the
    limit if any is, exact below it. Read as one OR, PostgreSQL takes the ranges into one
    bitmap and then reads a row of the table for each match (175 ms for the initials zj at
    ten million customers); each alone is read off its own index (a few ms)."""
    each = [sa.select(Customer.id).where(*others, a).limit(limit).subquery() for a in alternatives]
    return sa.union(*(sa.select(e.c.id) for e in each))


def _in_range(column, name: str) -> sa.ColumnElement[bool]:
    return sa.and_(column >= sa.bindparam(f"{name}_from"), column < sa.bindparam(f"{name}_to"))


@functools.cache
def _count_statement(kind: str, own: bool) -> sa.Select:
    return sa.select(sa.func.count()).select_from(_probe_statement(kind, own).subquery())


@functools.cache
def _probe_statement(kind: str, own: bool) -> sa.Select | sa.CompoundSelect:
    match kind:
        case "name":
            return _matching_ids(own, _in_range(Customer.name, "name"))
        case "last4":
            last4s = sa.bindparam("last4s", expanding=True)
            return _matching_ids(own, Customer.phone_last4.in_(last4s))
        case "spelling":
            return ids_of_either(counted_apart("spelling_walk"), _owned(own), _probe_limit())
    raise ValueError(kind)


def _starts(column, name: str) -> sa.ColumnElement[bool]:
    """``column`` begins with the parameter ``name``_from, checked on each row walked: an
    expression no index offers, so that the walk stays the list's own index."""
    length = sa.bindparam(f"{name}_length")
    return sa.func.substr(column, 1, length) == sa.bindparam(f"{name}_from")


def counted_condition(name: str) -> sa.ColumnElement[bool] | None:
    """The condition called ``name`` as a count of the list reads it: a walk's check, row by
    row, is there to keep a page on the list's own index, but a count reads every match and
    is cheaper off the search's index (the range of its prefix)."""
    match name:
        case "name_walk":
            return _in_range(Customer.name, "name")
        case "spelling_walk":
            return sa.or_(
                _in_range(Customer.name_pinyin, "pinyin"),
                _in_range(Customer.name_initials, "initials"),
            )
        case "phone_end":
            return Customer.phone_last4.in_(sa.bindparam("last4s", expanding=True))
    return condition(name)


def counted_apart(name: str) -> tuple[sa.ColumnElement[bool], ...] | None:
    """The condition called ``name`` as alternatives a count reads apart (``ids_of_either``):
    pinyin or initials, each off its own index."""
    if name == "spelling_walk":
        return (
            _in_range(Customer.name_pinyin, "pinyin"),
            _in_range(Customer.name_initials, "initials"),
        )
    return None


def condition(name: str) -> sa.ColumnElement[bool] | None:
    """The search's condition called ``name`` in a list's shape; None if it is not one."""
    tail = Customer.phone.like(sa.bindparam("phone_tail"))
    match name:
        case "no_match":
            return sa.false()
        case "policy":
            return Customer.id == sa.bindparam("policy_customer")
        case "search_ids":
            return Customer.id.in_(sa.bindparam("search_ids", expanding=True))
        case "search_id_array":
            ids = sa.bindparam("search_ids", type_=postgresql.ARRAY(sa.Integer))
            return Customer.id == sa.any_(ids)
        case "name_walk":
            return _starts(Customer.name, "name")
        case "spelling_walk":
            return sa.or_(
                _starts(Customer.name_pinyin, "pinyin"), _starts(Customer.name_initials, "initials")
            )
        case "phone_last4":
            return Customer.phone_last4 == sa.bindparam("phone_last4")
        case "phone_tail":
            return sa.and_(Customer.phone_last4 == sa.bindparam("phone_last4"), tail)
        case "phone_end":
            return tail
    return None
