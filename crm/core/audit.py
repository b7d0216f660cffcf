"""The audit trail: who changed which field of what, from what to what, and when."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import sqlalchemy as sa

from crm.core import reads
from crm.extensions import db
from crm.models import AuditLog, Staff


def as_text(value: Any) -> str | None:
    """The stored form of a value in the audit log."""
    if value is None:
        return None
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, list | tuple):
        return ", ".join(as_text(v) or "" for v in value)
    return str(value)


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The fields whose value differs, with (old, new)."""
    return {
        field: (before.get(field), value)
        for field, value in after.items()
        if as_text(before.get(field)) != as_text(value)
    }


def record(
    actor: Staff | None,
    entity: str,
    entity_id: int,
    action: str,
    changes: Mapping[str, tuple[Any, Any]] | None = None,
    *,
    customer_id: int | None = None,
    version: int | None = None,
    reason: str | None = None,
) -> None:
    """Add audit rows to the session (committed with the change they describe)."""
    rows = [
        {
            "field": field,
            "old_value": as_text(old),
            "new_value": as_text(new),
        }
        for field, (old, new) in (changes or {}).items()
    ] or [{"field": None, "old_value": None, "new_value": None}]
    for row in rows:
        db.session.add(
            AuditLog(
                actor_id=actor.id if actor else None,
                entity=entity,
                entity_id=entity_id,
                customer_id=customer_id,
                action=action,
                version=version,
                reason=reason,
                **row,
            )
        )


@functools.cache
def _history_statement() -> sa.Select:
    return (
        sa.select(*AuditLog.__table__.c, Staff.display_name.label("actor_name"))
        .outerjoin(Staff, Staff.id == AuditLog.actor_id)
        .where(AuditLog.customer_id == sa.bindparam("customer_id"))
        .order_by(AuditLog.id.desc())
        .limit(sa.bindparam("limit"))
    )


def dossier_history(customer_id: int, limit: int = 200) -> Sequence[sa.Row]:
    """Audit rows of a dossier and its policies, newest first, each with ``actor_name``."""
    return reads.rows(_history_statement(), customer_id=customer_id, limit=limit)


def changes_since(entity: str, entity_id: int, version: int) -> list[AuditLog]:
    """What others changed on an entity after ``version``: shown to an editor who was too late."""
    query = sa.select(AuditLog).where(
        AuditLog.entity == entity, AuditLog.entity_id == entity_id, AuditLog.version > version
    )
    return list(db.session.scalars(query.order_by(AuditLog.id)))


def referenced_names(rows: list[AuditLog], can_see=None) -> dict[tuple[str, str], str]:
    """Names for the ids in history rows (owner, approver, branch, referrer, product), so
    people read names.

    ``can_see(customer)`` decides whether a referrer's name may be shown; otherwise "#id".
    """
    from flask_babel import gettext

    from crm.models import Branch, Customer, Product

    wanted: dict[str, set[int]] = {
        "owner_id": set(),
        "approved_by_id": set(),
        "branch_id": set(),
        "referred_by_id": set(),
        "product_id": set(),
    }
    for row in rows:
        if row.field in wanted:
            for value in (row.old_value, row.new_value):
                if value and value.isdigit():
                    wanted[row.field].add(int(value))
    names: dict[tuple[str, str], str] = {}
    for model, field, label in (
        (Staff, "owner_id", lambda s: s.display_name),
        (Staff, "approved_by_id", lambda s: s.display_name),
        (Branch, "branch_id", lambda b: b.name),
        (Customer, "referred_by_id", None),
        (Product, "product_id", lambda p: f"{p.name} ({p.risk_level.value})"),
    ):
        if not wanted[field]:
            continue
        for obj in db.session.scalars(sa.select(model).where(model.id.in_(wanted[field]))):
            if label is not None:
                names[(field, str(obj.id))] = label(obj)
            elif can_see is not None and can_see(obj):
                # Parentheses of the reader's language (full width in Chinese).
                names[(field, str(obj.id))] = gettext(
                    "%(text)s (%(note)s)", text=obj.name, note=f"#{obj.id}"
                )
            else:
                names[(field, str(obj.id))] = f"#{obj.id}"
    return names
