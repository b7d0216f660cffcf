"""The customer list's selection (批量操作): the customers ticked on a page, and a tag added
to or taken off all of them at once.

A selection is all or nothing as to who is in it: one customer the user may not see (a
forged id, a dossier handed to someone else since the page was drawn) refuses the whole of
it, before anything is written. The tags themselves are written by ``tags.add_tag`` and
``tags.remove_tag`` (audited per customer, each dossier's version moved on).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from crm.core.access import customer_scope
from crm.core.inputs import InvalidInput, as_id, has_control_characters
from crm.extensions import db
from crm.models import Customer, Staff
from crm.services.customers import tags
from crm.services.customers.dossier_checks import TEXT_LIMITS

# A page of the list is 50; "select all on this page" never sends more than a few pages'
# worth, and a request naming thousands of ids is not one a person made.
MAX_SELECTED = 500


@dataclass(frozen=True)
class TagChange:
    """What a bulk tag change did: how many customers were selected, how many changed (the
    others already carried the tag, or did not carry it)."""

    tag: str
    selected: int
    changed: int


def selected_ids(values: Iterable[object]) -> list[int]:
    """The customer numbers ticked, in the order the page showed them, each once."""
    ids: list[int] = []
    for value in values:
        number = as_id(value)
        if number is None:
            raise InvalidInput({"ids": _l("The selection holds something that is not a customer.")})
        if number not in ids:
            ids.append(number)
    if not ids:
        raise InvalidInput({"ids": _l("Select at least one customer.")})
    if len(ids) > MAX_SELECTED:
        raise InvalidInput({"ids": _l("Select at most %(n)d customers at once.", n=MAX_SELECTED)})
    return ids


def visible_selection(user: Staff, values: Iterable[object]) -> list[int]:
    """The selected customers' numbers, all of them customers ``user`` may see, or the
    refusal of the whole selection."""
    ids = selected_ids(values)
    seen = set(
        db.session.scalars(sa.select(Customer.id).where(Customer.id.in_(ids), customer_scope(user)))
    )
    if len(seen) != len(ids):
        raise InvalidInput(
            {
                "ids": _l(
                    "Some of the selected customers are not yours to change; nothing was changed."
                )
            }
        )
    return ids


def selected_customers(user: Staff, values: Iterable[object]) -> list[Customer]:
    """The selected customers themselves, in the order they were ticked."""
    ids = visible_selection(user, values)
    found = {c.id: c for c in db.session.scalars(sa.select(Customer).where(Customer.id.in_(ids)))}
    return [found[i] for i in ids]


def tag_name(text: str | None) -> str:
    """One tag as typed (surrounding spaces dropped), or the refusal."""
    name = (text or "").strip()
    if not name:
        raise InvalidInput({"tag": _l("Enter the tag.")})
    if "," in name or "，" in name:
        raise InvalidInput({"tag": _l("Enter one tag (no commas).")})
    if len(name) > TEXT_LIMITS["tag"]:
        raise InvalidInput({"tag": _l("A tag has at most %(n)d characters.", n=TEXT_LIMITS["tag"])})
    if has_control_characters(name):
        raise InvalidInput({"tag": _l("This contains characters that cannot be stored.")})
    return name


def tag_selected(user: Staff, values: Iterable[object], text: str | None) -> TagChange:
    """Add the tag to every selected customer; the caller commits."""
    name = tag_name(text)
    ids = visible_selection(user, values)
    return TagChange(name, len(ids), len(tags.add_tag(user, ids, name)))


def untag_selected(user: Staff, values: Iterable[object], text: str | None) -> TagChange:
    """Take the tag off every selected customer that carries it; the caller commits."""
    name = tag_name(text)
    ids = visible_selection(user, values)
    return TagChange(name, len(ids), len(tags.remove_tag(user, ids, name)))
