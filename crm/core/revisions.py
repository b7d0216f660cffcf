"""Someone saved this first: optimistic locking for every record a person revises.

Customers, policies, experiences, call-backs and complaints carry a ``version`` that
SQLAlchemy bumps on every UPDATE. An edit starts from the version it read; when the stored
row has moved on, the edit is refused with what the other writer changed (never silently
overwritten). Views and the API word the refusal for their user; the rule lives here.
"""

from __future__ import annotations

from sqlalchemy.orm.exc import StaleDataError

from crm.core import audit
from crm.core.inputs import flush_or_explain
from crm.extensions import db
from crm.models import AuditLog, Customer


class StaleDossier(Exception):
    """Someone else saved since this edit began; ``missed`` is what they changed, and
    ``customer`` the dossier the record belongs to (the page to show again)."""

    def __init__(self, customer: Customer, missed: list[AuditLog]):
        super().__init__(f"customer {customer.id} changed since the edit began")
        self.customer = customer
        self.missed = missed


def stale(customer: Customer, entity: str, entity_id: int, version: int) -> StaleDossier:
    """The refusal for an edit of ``entity`` #``entity_id`` that began at ``version``."""
    return StaleDossier(customer, audit.changes_since(entity, entity_id, version))


def require_version(record, expected_version: int, customer: Customer | None = None) -> None:
    """Refuse an edit of ``record`` (a customer, or a record of ``customer``'s) that began at
    another version than the one stored."""
    if record.version != expected_version:
        owner = customer if customer is not None else record
        raise stale(owner, record.__tablename__, record.id, expected_version)


def flush_revision(model, entity_id: int, expected_version: int, *clashes) -> None:
    """Flush a revision of a customer or one of their records. If another writer committed
    between our read and this UPDATE, raise ``StaleDossier`` with what they changed."""
    try:
        flush_or_explain(*clashes)
    except StaleDataError:
        db.session.rollback()
        fresh = db.session.get(model, entity_id)
        customer = fresh if isinstance(fresh, Customer) else fresh.customer
        raise stale(customer, model.__tablename__, entity_id, expected_version) from None
