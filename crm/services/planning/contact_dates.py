"""A customer's last contact (最近联系) and next planned experience (下次计划体验), kept on the
customer row so that the customer list can sort by them and page by an index.

What counts, the one definition (churn scoring's "last contact of any kind" reads the same,
``crm.services.retention.signals``):

- **last contact**: the latest day an experience was held, that is recorded as done or as
  a no-show (the customer was reached and invited, whatever their response), of any
  category; a routine SMS counts once sent (sending records its experience done,
  ``crm.services.outreach.sending``). Planned and cancelled experiences do not count.
- **next planned**: the earliest experience still planned (not done, not cancelled) due
  today or later; one overdue and never recorded is not "next".

Both are None when there is none. Every write that changes an experience's status or date
refreshes them here: one customer after a form, set-based (one UPDATE over the customers
concerned) after the planner or any bulk change. "From today on" moves with the calendar, so
the nightly planner (``planner.plan_contacts``) refreshes every customer's next planned
experience, which rolls past a day that went by with nothing recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import sqlalchemy as sa

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import Customer, Experience
from crm.models.enums import ExperienceStatus

# An experience held: what the customer was reached by.
HELD = (ExperienceStatus.DONE, ExperienceStatus.NO_SHOW)


def is_contact(experience: type[Experience] | sa.orm.util.AliasedClass = Experience):
    """The condition an experience counts as contact (its ``held_on`` is the day)."""
    return experience.status.in_(HELD)


def last_contact(customer_id: sa.ColumnElement) -> sa.ScalarSelect:
    """The day of the customer's last contact, as a correlated subquery."""
    return (
        sa.select(sa.func.max(Experience.held_on))
        .where(Experience.customer_id == customer_id, is_contact())
        .scalar_subquery()
    )


def next_planned(customer_id: sa.ColumnElement, today: date) -> sa.ScalarSelect:
    """The due day of the customer's next planned experience from ``today`` on."""
    return (
        sa.select(sa.func.min(Experience.due_on))
        .where(
            Experience.customer_id == customer_id,
            Experience.status == ExperienceStatus.PLANNED,
            Experience.due_on >= sa.literal(today, sa.Date),
        )
        .scalar_subquery()
    )


def refresh(customer_ids: Iterable[int], today: date | None = None) -> None:
    """Recompute both dates for these customers (after a write through a form or the API);
    the caller commits. Customers loaded in the session see the new dates."""
    ids = sorted(set(customer_ids))
    if not ids:
        return
    today = today or local_today()
    db.session.flush()
    db.session.execute(
        sa.update(Customer)
        .where(Customer.id.in_(ids))
        .values(
            last_contact_on=last_contact(Customer.id),
            next_planned_on=next_planned(Customer.id, today),
        )
        .execution_options(synchronize_session="fetch")
    )


def refresh_where(
    condition: sa.ColumnElement[bool], today: date | None = None, *, contact: bool = True
) -> int:
    """Recompute the dates of every customer matching ``condition`` (on the customer table),
    in one statement; ``contact=False`` leaves the last contact alone (a write that only
    plans or cancels). Only rows whose value changes are written. The caller commits."""
    today = today or local_today()
    planned = next_planned(Customer.id, today)
    values: dict[str, sa.ColumnElement] = {"next_planned_on": planned}
    changed = [_differs(Customer.next_planned_on, planned)]
    if contact:
        contacted = last_contact(Customer.id)
        values["last_contact_on"] = contacted
        changed.append(_differs(Customer.last_contact_on, contacted))
    result = db.session.execute(
        sa.update(Customer)
        .where(condition, sa.or_(*changed))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def _differs(column: sa.ColumnElement, value: sa.ColumnElement) -> sa.ColumnElement[bool]:
    """``column`` is not ``value``, NULLs compared as values (on both databases)."""
    return column.is_distinct_from(value)
