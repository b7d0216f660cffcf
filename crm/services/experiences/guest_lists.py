"""Finding guests for a group event: by name when inviting one, or a whole chosen list
(a quadrant, a tag, an asset tier) in one step (批量邀约).

A list is invited customer by customer with ``invitations.invite``, so each meets the same
rules as a single invitation (the matrix, the budget at the estimated share, a manager's
approval); those the rules refuse are listed with why, the others invited together. A list
that does not fit in the places left is refused whole: which of them should get the last
places is the staff member's choice, not the database's order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy.orm.exc import StaleDataError

from crm.core.inputs import InvalidInput, as_id, printable
from crm.extensions import db
from crm.models import Customer, Experience, GroupEvent, Staff, Tag
from crm.models.base import utcnow
from crm.models.enums import Quadrant
from crm.services.customers import asset_tiers
from crm.services.customers.customer_list import (
    CustomerFilters,
    Listed,
    filtered_query,
    list_customers,
)
from crm.services.experiences import event_types, invitations
from crm.services.experiences.events import changed_meanwhile, holding_seats

# More than this many customers at once is a mailing, not a guest list.
MAX_LIST = 500
FOUND_AT_MOST = 10


# --- one guest, by name -------------------------------------------------------------------


def find_guests(user: Staff, event: GroupEvent, text: str) -> list[Listed]:
    """Customers of the event's branch the user may see whose name, pinyin, initials or
    phone tail match ``text``, as the header's search reads it (``customers.search``)."""
    filters = CustomerFilters.from_args({"q": text, "sort": "name"})
    filters = CustomerFilters(q=filters.q, branch=event.branch_id, sort=filters.sort)
    if not filters.q:
        return []
    return list_customers(user, filters, page_size=FOUND_AT_MOST).customers


def invited_ids(event: GroupEvent) -> set[int]:
    """The customers holding a seat at the event."""
    return set(
        db.session.scalars(
            sa.select(Experience.customer_id).where(
                Experience.group_event_id == event.id, holding_seats()
            )
        )
    )


# --- a chosen list ------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """Which customers a list takes: a quadrant, a tag, an asset tier (any together)."""

    quadrant: Quadrant | None = None
    tag: str = ""
    tier: int | None = None


def read_choice(data: Mapping[str, Any]) -> Choice:
    """The list's choice from a form, or the refusal: an unknown value, or no choice at all."""
    errors: dict[str, Any] = {}
    quadrant = None
    if data.get("quadrant"):
        try:
            quadrant = Quadrant(data["quadrant"])
        except ValueError:
            errors["quadrant"] = _l("Choose one of the listed values.")
    tag = printable(data.get("tag")).strip()
    if tag and db.session.scalar(sa.select(Tag.id).where(Tag.name == tag)) is None:
        errors["tag"] = _l("No customer carries the tag “%(tag)s”.", tag=tag[:40])
    tier = as_id(data.get("tier")) if data.get("tier") not in (None, "") else None
    if data.get("tier") not in (None, "") and tier not in {
        t.number for t in asset_tiers.current_tiers()
    }:
        errors["tier"] = _l("Choose one of the listed values.")
    if not errors and quadrant is None and not tag and tier is None:
        errors[""] = _l("Choose a quadrant, a tag or an asset tier.")
    if errors:
        raise InvalidInput(errors)
    return Choice(quadrant, tag, tier)


def chosen_customers(user: Staff, event: GroupEvent, choice: Choice) -> list[Customer]:
    """The customers of the event's branch the user may see that ``choice`` takes, by name."""
    filters = CustomerFilters(
        quadrant=choice.quadrant, tag=choice.tag, tier=choice.tier, branch=event.branch_id
    )
    customers = list(
        db.session.scalars(
            filtered_query(user, filters)
            .order_by(Customer.name_pinyin, Customer.id)
            .limit(MAX_LIST + 1)
        )
    )
    if len(customers) > MAX_LIST:
        raise InvalidInput(
            {"": _l("More than %(n)d customers match: narrow the choice.", n=MAX_LIST)}
        )
    return customers


@dataclass
class GuestList:
    """What inviting a list does (or would do): who is invited, who is already, who the
    rules refuse and why, who finds no place left."""

    matched: int = 0
    invited: list[Customer] = field(default_factory=list)
    already: list[Customer] = field(default_factory=list)
    refused: list[tuple[Customer, list[Any]]] = field(default_factory=list)
    no_place: list[Customer] = field(default_factory=list)
    outside: list[Customer] = field(default_factory=list)  # among ``invited``


def preview(
    user: Staff,
    event: GroupEvent,
    choice: Choice,
    reason: str | None = None,
    today: date | None = None,
) -> GuestList:
    """What inviting the list would do, written nowhere: each invitation is tried and then
    undone (the session's transaction is rolled back), so that the preview applies exactly
    the rules the invitation will."""
    customers = chosen_customers(user, event, choice)
    try:
        return _invite_each(user, event, customers, reason, today)
    finally:
        db.session.rollback()


def invite_list(
    user: Staff,
    event: GroupEvent,
    choice: Choice,
    reason: str | None = None,
    outside_tiers_confirmed: bool = False,
    today: date | None = None,
) -> GuestList:
    """Invite the chosen customers the rules allow (``invite_customers``)."""
    customers = chosen_customers(user, event, choice)
    return invite_customers(user, event, customers, reason, outside_tiers_confirmed, today)


def invite_customers(
    user: Staff,
    event: GroupEvent,
    customers: list[Customer],
    reason: str | None = None,
    outside_tiers_confirmed: bool = False,
    today: date | None = None,
) -> GuestList:
    """Invite those of ``customers`` the rules allow, a list chosen here or ticked on the
    customer list; the caller commits, or rolls back on ``InvalidInput`` (more than the
    places left; customers outside the tiers the event's type suits, unconfirmed:
    ``event_types.OutsideTiers``; someone writing to the event at the same moment)."""
    result = _invite_each(user, event, customers, reason, today)
    if result.no_place:
        raise InvalidInput(
            {
                "": lazy_ngettext(
                    "%(n)d of the chosen customers can be invited, but only %(num)d place is"
                    " left: narrow the choice or raise the capacity.",
                    "%(n)d of the chosen customers can be invited, but only %(num)d places"
                    " are left: narrow the choice or raise the capacity.",
                    len(result.invited),
                    n=len(result.invited) + len(result.no_place),
                )
            }
        )
    event_types.refuse_unconfirmed(event, result.invited, outside_tiers_confirmed)
    return result


def _invite_each(
    user: Staff,
    event: GroupEvent,
    customers: list[Customer],
    reason: str | None,
    today: date | None,
) -> GuestList:
    result = GuestList(matched=len(customers))
    _hold(event)
    already = invited_ids(event)
    left = event.capacity - len(already)
    for customer in customers:
        if customer.id in already:
            result.already.append(customer)
            continue
        if left <= 0:
            result.no_place.append(customer)
            continue
        attempt = db.session.begin_nested()
        try:
            invitations.invite(user, event, customer, reason, today, outside_tiers_confirmed=True)
        except InvalidInput as refusal:
            if not attempt.is_active:
                raise  # a simultaneous writer undid the whole transaction
            attempt.rollback()
            result.refused.append((customer, _in_words(refusal)))
        else:
            attempt.commit()
            result.invited.append(customer)
            left -= 1
    result.outside = event_types.outside_tiers(event, result.invited)
    return result


def _hold(event: GroupEvent) -> None:
    """Write to the event before its seats are handed out: a simultaneous writer waits for
    this transaction (PostgreSQL's row lock) or finds the event changed. On SQLite the write
    also opens the transaction the savepoints nest in: a savepoint opened first would be the
    transaction itself, and releasing it would commit."""
    event.updated_at = utcnow()
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        raise changed_meanwhile() from None


def _in_words(refusal: InvalidInput) -> list[Any]:
    """The refusal's messages, each once, rendered in the reader's language when shown."""
    return list({str(m): m for m in refusal.errors.values()}.values())
