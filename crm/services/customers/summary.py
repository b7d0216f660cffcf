"""The dossier's summary (档案概要): the few figures a relationship manager wants before a call.

Most of them the dossier page has read already (the profile's row, the plan, the budget);
the one read of its own is the last contact. An SMS sent by the outbox is a contact the
customer cannot answer, so it does not count here: the last contact is the latest contact
as the list sorts by it (``contact_dates.is_contact``) that was not an outbox SMS, with its
response.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from crm.core import reads
from crm.models import Experience, OutboxMessage
from crm.models.enums import ChurnLevel, ExperienceStatus, Quadrant, Touchpoint
from crm.services.planning.budget import Budget
from crm.services.planning.contact_dates import is_contact


@dataclass(frozen=True)
class Contact:
    """An experience as the summary names it: what, on which day, and how it went."""

    category: Touchpoint
    on: date
    status: ExperienceStatus
    response: str | None = None  # a Response's value, None when none was recorded


@dataclass(frozen=True)
class Summary:
    age: int | None
    quadrant: Quadrant
    liquid_assets: Decimal
    assets_as_of: date | None
    last_contact: Contact | None
    next_planned: Contact | None
    overdue: bool  # the next planned experience was due before today
    budget_left: Decimal
    budget_limit: Decimal
    churn_level: ChurnLevel | None  # None: not scored (or the customer is lost)
    churn_score: int | None


def _sent_by_outbox() -> sa.Exists:
    return (
        sa.select(sa.literal_column("1"))
        .select_from(OutboxMessage)
        .where(OutboxMessage.experience_id == Experience.id)
        .exists()
    )


@functools.cache
def _last_contact_statement() -> sa.Select:
    return (
        sa.select(Experience.category, Experience.held_on, Experience.status, Experience.response)
        .where(
            Experience.customer_id == sa.bindparam("customer_id"),
            is_contact(),
            Experience.held_on.is_not(None),
            ~_sent_by_outbox(),
        )
        .order_by(Experience.held_on.desc(), Experience.id.desc())
        .limit(1)
    )


def last_contact(customer_id: int) -> Contact | None:
    """The latest experience held with the customer, outbox SMS aside."""
    row = reads.first(_last_contact_statement(), customer_id=customer_id)
    if row is None:
        return None
    response = row.response.value if row.response is not None else None
    return Contact(row.category, row.held_on, row.status, response)


def summarise(
    customer,
    *,
    age: int | None,
    planned: Sequence,
    budget: Budget,
    today: date,
) -> Summary:
    """The summary of ``customer`` (the dossier page's row) from what the page has read:
    ``planned``, its planned experiences soonest first; ``budget``, its budget today."""
    following = planned[0] if planned else None
    return Summary(
        age=age,
        quadrant=Quadrant(customer.quadrant),
        liquid_assets=customer.liquid_assets,
        assets_as_of=customer.assets_as_of,
        last_contact=last_contact(customer.id),
        next_planned=(
            Contact(following.category, following.due_on, following.status)
            if following is not None
            else None
        ),
        overdue=following is not None and following.due_on < today,
        budget_left=budget.remaining,
        budget_limit=budget.limit,
        churn_level=customer.churn_level,
        churn_score=customer.churn_score if customer.churn_level is not None else None,
    )
