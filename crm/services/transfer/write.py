"""Writing a checked customer list (导入写入), set-based, in the session's transaction.

The customers in one bulk insert, their first quadrant events in INSERT … SELECT
(``tiering.insert_events``, cause import), then tags, policies, one audit row per created
dossier and policy (INSERT … SELECT, attributed to the importing user) and one for the import
itself. An ORM flush of a hundred thousand objects would take many times as long.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from crm.core import audit, bulk
from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import AuditLog, Customer, Policy, QuadrantEvent, Staff
from crm.models.base import utcnow
from crm.models.enums import MoveCause
from crm.models.spelling import spell
from crm.services.customers import dossier, tags, tiering
from crm.services.transfer.check import Checked
from crm.services.transfer.grouping import FileCustomer
from crm.services.transfer.report import Progress, Report

# The customer table's columns an import fills: what ``dossier_checks.check`` returns that the
# table stores as it is, then what the import adds.
_CUSTOMER_VALUES = tuple(
    f for f in dossier.DOSSIER_FIELDS if f != "tags" and f in Customer.__table__.c
)
_CUSTOMER_COLUMNS = [
    "id",
    *_CUSTOMER_VALUES,
    "phone_last4",
    "name_pinyin",
    "name_initials",
    "quadrant",
    "sms_consent_at",
    "version",
    "created_at",
    "updated_at",
]


def write_customers(
    user: Staff | None, checked: Checked, *, progress: Progress | None = None
) -> None:
    """Create the checked customers, set-based; the caller commits. A customer recorded by
    someone else since the check (same phone) makes it all fail with ``InvalidInput``."""
    report, customers = checked.report, checked.customers
    at = utcnow()
    actor_id = user.id if user else None
    thresholds = tiering.current_thresholds()
    total = len(customers)
    reason = f"import: {report.file_name}"[:500]
    dbapi_integrity = db.session.connection().dialect.dbapi.IntegrityError
    try:
        # The import's own row first: on SQLite this first write takes the write lock, so
        # the ids chosen next stay free until the commit.
        _record_import(user, report, total)
        _insert_customers(customers, at, thresholds)
        if progress:
            progress("write", total // 2, total)
        _first_quadrants_and_audit(customers, at, thresholds, actor_id, reason)
        _write_tags(customers)
        policy_count = _write_policies(customers, at, actor_id, reason)
        if progress:
            progress("write", total, total)
    except (sa.exc.IntegrityError, dbapi_integrity):
        db.session.rollback()
        raise InvalidInput(
            {
                "file": _l(
                    "Someone saved a conflicting change (a customer with one of these phone "
                    "numbers, or one of these policies) while the file was imported. Nothing "
                    "was imported; check the file again."
                )
            }
        ) from None
    report.written = True
    report.created = total
    report.policies_created = policy_count


def _record_import(user: Staff | None, report: Report, total: int) -> None:
    """The audit row of the import itself: the file, the mode and what it came to."""
    audit.record(
        user,
        "import",
        0,
        "import",
        reason=(
            f"{report.file_name} ({report.mode.value}): {report.rows} rows, {total} "
            f"customers and {report.policies} policies created, "
            f"{len(report.rejected_lines)} rows rejected"
        )[:500],
    )
    db.session.flush()


def _insert_customers(customers: list[FileCustomer], at: datetime, thresholds) -> None:
    """Give each customer its id, then insert them all at once."""
    for customer, id_ in zip(
        customers, bulk.new_ids(Customer.__table__, len(customers)), strict=True
    ):
        customer.id = id_
    bulk.insert(Customer.__table__, _CUSTOMER_COLUMNS, _customer_rows(customers, at, thresholds))


def _customer_rows(customers: list[FileCustomer], at: datetime, thresholds) -> Iterator[tuple]:
    for customer in customers:
        values = customer.values
        yield (
            customer.id,
            *[values[k] for k in _CUSTOMER_VALUES],
            # The national number ends the E.164 form, so its last four digits are these.
            values["phone"][-4:],
            *spell(values["name"]),
            tiering.quadrant_for(values["liquid_assets"], values["willingness"], thresholds),
            at if values["sms_consent"] else None,
            1,
            at,
            at,
        )


def _first_quadrants_and_audit(
    customers: list[FileCustomer], at: datetime, thresholds, actor_id: int | None, reason: str
) -> None:
    """Per range of new ids: each customer's first quadrant event, and its audit row."""
    for low, high in bulk.id_ranges(sorted(c.id for c in customers)):
        mine = Customer.id.between(low, high)
        tiering.insert_events(
            mine,
            source=None,
            target=Customer.quadrant,
            thresholds=thresholds,
            cause=MoveCause.IMPORT,
            actor_id=actor_id,
            at=sa.literal(at, QuadrantEvent.at.type),
        )
        _audit_created(Customer, Customer.id, mine, actor_id, at, reason)


def _audit_created(model, id_column, where, actor_id: int | None, at: datetime, reason: str):
    """One audit row per created dossier or policy, in one INSERT … SELECT: "created by
    the importing user, from this file" (the values are the dossier's first version)."""
    customer_id = Customer.id if model is Customer else Policy.customer_id
    db.session.execute(
        sa.insert(AuditLog.__table__).from_select(
            ["at", "actor_id", "entity", "entity_id", "customer_id", "action", "version", "reason"],
            sa.select(
                sa.literal(at, AuditLog.at.type),
                sa.literal(actor_id, sa.Integer),
                sa.literal(model.__tablename__),
                id_column,
                customer_id,
                sa.literal("create"),
                sa.literal(1),
                sa.literal(reason),
            ).where(where),
        )
    )


def _write_tags(customers: list[FileCustomer]) -> None:
    """The tags new to the CRM, then each customer's links to its tags."""
    wanted = {t for c in customers for t in c.values["tags"]}
    if not wanted:
        return
    known = tags.tag_ids(wanted)
    tags.link_new_customers((c.id, known[t]) for c in customers for t in c.values["tags"])


def _write_policies(
    customers: list[FileCustomer], at: datetime, actor_id: int | None, reason: str
) -> int:
    """The customers' policies and their audit rows; how many."""
    rows = [
        {
            **policy,
            "customer_id": c.id,
            "product_id": policy.get("product_id"),
            "version": 1,
            "created_at": at,
            "updated_at": at,
        }
        for c in customers
        for policy in c.policies
    ]
    if not rows:
        return 0
    names = list(rows[0])
    bulk.insert(Policy.__table__, names, [tuple(r[n] for n in names) for r in rows])
    for low, high in bulk.id_ranges(sorted({r["customer_id"] for r in rows})):
        holders = Policy.customer_id.between(low, high)
        _audit_created(Policy, Policy.id, holders, actor_id, at, reason)
    return len(rows)
