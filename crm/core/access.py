"""Who may see which customers and staff.

Staff see their own customers, managers their branch's, admins all. A customer
outside that scope does not exist for the user: lookups answer 404, never 403.
"""

from __future__ import annotations

from typing import NamedTuple

import sqlalchemy as sa
from flask import abort

from crm.extensions import db
from crm.models import Branch, Customer, Staff
from crm.models.enums import Role


def scope_of(user: Staff) -> tuple[str, int | None]:
    """Which customers ``user`` may see: ("all", None), ("branch", id), ("owner", id), or
    ("none", None) for a manager without a branch."""
    if user.role == Role.ADMIN:
        return "all", None
    if user.role == Role.MANAGER:
        return ("branch", user.branch_id) if user.branch_id is not None else ("none", None)
    return "owner", user.id


def scope_clause(kind: str, value) -> sa.ColumnElement[bool]:
    """The WHERE clause of a scope from ``scope_of``; ``value`` may be a bound parameter."""
    if kind == "all":
        return sa.true()
    if kind == "none":
        return sa.false()
    return (Customer.branch_id if kind == "branch" else Customer.owner_id) == value


def customer_scope(user: Staff) -> sa.ColumnElement[bool]:
    """The WHERE clause limiting customers to those ``user`` may see."""
    return scope_clause(*scope_of(user))


def can_see_customer(user: Staff, customer: Customer) -> bool:
    if user.role == Role.ADMIN:
        return True
    if user.role == Role.MANAGER:
        return user.branch_id is not None and customer.branch_id == user.branch_id
    return customer.owner_id == user.id


def get_customer_or_404(customer_id: int, user: Staff) -> Customer:
    """Load a customer the user may see, or answer 404 whether it exists or not."""
    customer = db.session.get(Customer, customer_id)
    if customer is None or not can_see_customer(user, customer):
        abort(404)
    return customer


def get_of_customer_or_404(model, record_id: int, user: Staff):
    """Load a record that belongs to a customer (``model.customer_id``) if the user may see
    that customer, or answer 404 whether it exists or not."""
    record = db.session.scalar(
        sa.select(model)
        .join(Customer, Customer.id == model.customer_id)
        .where(model.id == record_id, customer_scope(user))
    )
    if record is None:
        abort(404)
    return record


def assignable_owners(user: Staff) -> list[Staff]:
    """Staff to whom ``user`` may give a customer."""
    if user.role == Role.STAFF:
        return [user]
    return list(db.session.scalars(_assignable(user, sa.select(Staff))))


class OwnerChoice(NamedTuple):
    id: int
    display_name: str


def owner_choices(user: Staff) -> list[OwnerChoice]:
    """The ids and names of ``assignable_owners``, for a list's owner filter: an admin's are
    every staff member of the bank, which loaded as objects cost more than the rest of the
    page."""
    if user.role == Role.STAFF:
        return [OwnerChoice(user.id, user.display_name)]
    names = sa.select(Staff.id, Staff.display_name)
    return [OwnerChoice(*row) for row in db.session.execute(_assignable(user, names))]


def _assignable(user: Staff, query: sa.Select) -> sa.Select:
    query = query.where(Staff.is_active_account.is_(True))
    if user.role == Role.MANAGER:
        query = query.where(Staff.branch_id == user.branch_id)
    return query.order_by(Staff.display_name)


def sees_full_phones(user: Staff) -> bool:
    """Whether exports carry full phone numbers: admins only. A list of numbers is a bulk
    copy of personal data; everyone else exports them masked, as the screens show them."""
    return user.role == Role.ADMIN


def visible_branches(user: Staff) -> list[Branch]:
    if user.role == Role.ADMIN:
        return list(db.session.scalars(sa.select(Branch).order_by(Branch.name)))
    return [user.branch] if user.branch else []
