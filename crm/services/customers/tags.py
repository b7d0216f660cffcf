"""Tags on customers (客户标签): the one place that writes ``customer_tag``.

Each link carries its customer's branch, so that a branch's list by tag reads one index
(``ix_customer_tag_branch_id_tag_id_customer_id``). The branch is copied from the customer
row by the statement that writes the link, never taken from the caller, and the table's key
(customer_id, branch_id) → customer refuses any other and moves the links with every change
of the customer's branch (a handover, a reassignment): no writer has to remember it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa

from crm.core import audit, bulk
from crm.extensions import db
from crm.models import AuditLog, Customer, Staff, Tag, customer_tag
from crm.models.base import utcnow

# Statements over many customers take their ids in chunks of this many (bound parameters).
CHUNK = 500


def tag_ids(names: Iterable[str]) -> dict[str, int]:
    """The ids of the tags ``names``, creating those no one has used yet."""
    wanted = sorted(set(names))
    found: dict[str, int] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        rows = db.session.execute(sa.select(Tag.name, Tag.id).where(Tag.name.in_(chunk)))
        found.update((name, tag_id) for name, tag_id in rows)
    missing = [name for name in wanted if name not in found]
    if missing:
        bulk.insert(Tag.__table__, ["name"], [(name,) for name in missing])
        found.update(tag_ids(missing))
    return found


def _link(customer_ids: Sequence[int], tag_id: int) -> None:
    """Link each of ``customer_ids`` not yet carrying ``tag_id`` to it, with its branch."""
    carrying = sa.exists().where(
        customer_tag.c.customer_id == Customer.id, customer_tag.c.tag_id == tag_id
    )
    db.session.execute(
        sa.insert(customer_tag).from_select(
            ["customer_id", "tag_id", "branch_id"],
            sa.select(Customer.id, sa.literal(tag_id, sa.Integer), Customer.branch_id).where(
                Customer.id.in_(customer_ids), ~carrying
            ),
        )
    )


def set_tags(customer: Customer, names: Sequence[str]) -> None:
    """Give a saved dossier exactly the tags ``names`` (a dossier edit, which audits the
    change with the rest of the revision); the caller commits."""
    ids = tag_ids(names)
    db.session.execute(
        sa.delete(customer_tag).where(
            customer_tag.c.customer_id == customer.id,
            customer_tag.c.tag_id.not_in(list(ids.values())),
        )
    )
    for tag_id in ids.values():
        _link([customer.id], tag_id)
    db.session.expire(customer, ["tags"])


def link_new_customers(links: Iterable[tuple[int, int]]) -> None:
    """Links (customer_id, tag_id) of customers written just before in this transaction (an
    import, the demo bank): one bulk insert, each with its customer's branch read by id."""
    pairs = list(links)
    branches: dict[int, int] = {}
    ids = sorted({customer_id for customer_id, _tag_id in pairs})
    for low, high in bulk.id_ranges(ids):
        branches.update(
            db.session.execute(
                sa.select(Customer.id, Customer.branch_id).where(Customer.id.between(low, high))
            ).all()
        )
    bulk.insert(
        customer_tag,
        ["customer_id", "tag_id", "branch_id"],
        ((customer_id, tag_id, branches[customer_id]) for customer_id, tag_id in pairs),
    )


def _tag_names_of(customer_ids: Sequence[int]) -> dict[int, list[str]]:
    names: dict[int, list[str]] = {customer_id: [] for customer_id in customer_ids}
    rows = db.session.execute(
        sa.select(customer_tag.c.customer_id, Tag.name)
        .join(Tag, Tag.id == customer_tag.c.tag_id)
        .where(customer_tag.c.customer_id.in_(customer_ids))
        .order_by(Tag.name)
    )
    for customer_id, name in rows:
        names[customer_id].append(name)
    return names


AUDIT_COLUMNS = [
    *("at", "actor_id", "entity", "entity_id", "customer_id", "action"),
    *("field", "old_value", "new_value", "version"),
]


def _change_tag(
    actor: Staff | None, customer_ids: Iterable[int], name: str, adding: bool, now: datetime
) -> list[int]:
    ids = sorted(set(customer_ids))
    tag_id = (
        tag_ids([name])[name]
        if adding
        else db.session.scalar(sa.select(Tag.id).where(Tag.name == name))
    )
    changed: list[int] = []
    if tag_id is None:
        return changed
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        before = _tag_names_of(chunk)
        chunk = [i for i in chunk if (name in before[i]) != adding]
        if not chunk:
            continue
        if adding:
            _link(chunk, tag_id)
        else:
            db.session.execute(
                sa.delete(customer_tag).where(
                    customer_tag.c.customer_id.in_(chunk), customer_tag.c.tag_id == tag_id
                )
            )
        # A new version, so that a dossier form opened before is refused, not saved over it.
        versions = db.session.execute(
            sa.update(Customer)
            .where(Customer.id.in_(chunk))
            .values(version=Customer.version + 1, updated_at=now)
            .returning(Customer.id, Customer.version)
            .execution_options(synchronize_session=False)
        ).all()
        rows = []
        for customer_id, version in sorted(versions):  # in customer order, whatever RETURNING gave
            old = before[customer_id]
            new = sorted([*old, name]) if adding else [t for t in old if t != name]
            rows.append(
                (now, actor.id if actor else None, "customer", customer_id, customer_id)
                + ("update", "tags", audit.as_text(old), audit.as_text(new), version)
            )
        bulk.insert(AuditLog.__table__, AUDIT_COLUMNS, rows)
        changed.extend(chunk)
    db.session.expire_all()  # the ORM's customers carry their new versions and tags
    return changed


def add_tag(
    actor: Staff | None, customer_ids: Iterable[int], name: str, now: datetime | None = None
) -> list[int]:
    """Tag each of ``customer_ids`` with ``name`` (created if new), audited per customer;
    the ids of those that did not carry it yet. The caller checks the actor may see them
    and commits."""
    return _change_tag(actor, customer_ids, name, True, now or utcnow())


def remove_tag(
    actor: Staff | None, customer_ids: Iterable[int], name: str, now: datetime | None = None
) -> list[int]:
    """Take the tag ``name`` off each of ``customer_ids``, audited per customer; the ids of
    those that carried it. The caller checks the actor may see them and commits."""
    return _change_tag(actor, customer_ids, name, False, now or utcnow())
