"""The dossier page (客户档案): everything it shows, read in as few statements as it takes.

A relationship manager opens dossiers all day, far more often than one changes, so the page
reads rows rather than loading objects (`crm/core/reads.py`), each statement built once.
The profile's statement also brings the customer's tags and says whether they have
complaints, open call-backs or customers they brought in; most have none, and then those
sections cost no statement at all. Planned and past experiences are one statement, and the
budget's carries the quadrant's limit. Each statement saved is a round trip to PostgreSQL.
The summary header reads one more (the last contact); the activity one per kind shown, each
limited to the page's rows, except the kinds the profile's row says there is none of
(complaints, recorded call-backs, SMS) and the quadrant moves, the movement section's.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from crm.core import access, audit, reads
from crm.core.clock import local_today
from crm.models import (
    Branch,
    Complaint,
    Customer,
    MaturityCallback,
    Opportunity,
    OutboxMessage,
    Policy,
    Prospect,
    Staff,
    Tag,
    customer_tag,
)
from crm.services.advice import suggestions as advice
from crm.services.customers import referrals, summary, tiering, timeline
from crm.services.experiences import recording
from crm.services.followup import calls, complaints, hints
from crm.services.planning import budget
from crm.services.retention import reasons as churn
from crm.services.sales import pipeline


@dataclass(frozen=True)
class DossierPage:
    customer: sa.Row  # the dossier's fields, ``owner_name`` and ``branch_name``
    tags: list[str]
    policies: Sequence[sa.Row]
    budget: budget.Budget
    suggestions: list[advice.Suggestion]
    upcoming: Sequence[sa.Row]
    past: Sequence[sa.Row]
    moves: Sequence[sa.Row]
    chain: referrals.Chain
    complaints: Sequence[sa.Row]
    callbacks: Sequence[sa.Row]
    history: Sequence[sa.Row]
    names: dict[tuple[str, str], str]  # for ids in the history: who, which branch, …
    today: date
    churn_reasons: list[str]  # the churn score's top reasons, in the reader's language
    opportunities: Sequence[sa.Row] = ()  # 商机, soonest to close first
    summary: summary.Summary | None = None  # the header's figures
    activity: timeline.Timeline | None = None  # one page of everything that happened


def _any(model, *conditions) -> sa.Exists:
    # EXISTS (SELECT 1 …), not SELECT *: SQLite then answers from the index alone. With
    # SELECT * and statistics saying most referrers are NULL, it chose to scan the table.
    return sa.select(sa.literal_column("1")).select_from(model).where(*conditions).exists()


# Between tag names in the profile's row; no name holds a control character (inputs refuse them).
TAG_SEPARATOR = "\x1f"


@functools.cache
def _profile_statement() -> sa.Select:
    referred = sa.orm.aliased(Customer)
    tag_names = (
        sa.select(sa.func.aggregate_strings(Tag.name, TAG_SEPARATOR))
        .join(customer_tag, customer_tag.c.tag_id == Tag.id)
        .where(customer_tag.c.customer_id == Customer.id)
        .scalar_subquery()
    )
    return (
        sa.select(
            *Customer.__table__.c,
            Staff.display_name.label("owner_name"),
            Branch.name.label("branch_name"),
            tag_names.label("tag_names"),
            _any(referred, referred.referred_by_id == Customer.id).label("has_referred"),
            _any(Complaint, Complaint.customer_id == Customer.id).label("has_complaints"),
            _any(
                MaturityCallback,
                MaturityCallback.customer_id == Customer.id,
                MaturityCallback.recorded_at.is_(None),
            ).label("has_open_callbacks"),
            _any(Opportunity, Opportunity.customer_id == Customer.id).label("has_opportunities"),
            # The activity's kinds that most customers have none of.
            _any(
                MaturityCallback,
                MaturityCallback.customer_id == Customer.id,
                MaturityCallback.recorded_at.is_not(None),
            ).label("has_recorded_callbacks"),
            _any(OutboxMessage, OutboxMessage.customer_id == Customer.id).label("has_messages"),
            # The prospect it was opened from (潜在客户转化), if any.
            sa.select(Prospect.id)
            .where(Prospect.customer_id == Customer.id)
            .scalar_subquery()
            .label("prospect_id"),
        )
        .join(Staff, Staff.id == Customer.owner_id)
        .join(Branch, Branch.id == Customer.branch_id)
        .where(Customer.id == sa.bindparam("id"))
    )


@functools.cache
def _policies_statement() -> sa.Select:
    return (
        sa.select(*Policy.__table__.c)
        .where(Policy.customer_id == sa.bindparam("customer_id"))
        .order_by(Policy.start_date.desc(), Policy.id)
    )


def _kinds_without_rows(customer: sa.Row) -> tuple[str, ...]:
    """The activity's kinds the profile's row says the customer has none of."""
    return tuple(
        kind
        for kind, some in (
            ("complaint", customer.has_complaints),
            ("callback", customer.has_recorded_callbacks),
            ("sms", customer.has_messages),
        )
        if not some
    )


def load(
    user: Staff, customer_id: int, activity: str | None = None, activity_page: int = 1
) -> DossierPage | None:
    """The page of a dossier ``user`` may see, or None (whether it exists or not), with
    page ``activity_page`` of its activity of kind ``activity`` (None: every kind)."""
    customer = reads.first(_profile_statement(), id=customer_id)
    if customer is None or not access.can_see_customer(user, customer):
        return None
    history = audit.dossier_history(customer.id)
    upcoming, past = recording.for_dossier(customer)
    today = local_today()
    left = budget.budget_for(customer, today)
    moves = tiering.movement(customer.id)

    def can_see(other) -> bool:
        return access.can_see_customer(user, other)

    return DossierPage(
        customer=customer,
        tags=sorted(customer.tag_names.split(TAG_SEPARATOR)) if customer.tag_names else [],
        policies=reads.rows(_policies_statement(), customer_id=customer.id),
        budget=left,
        suggestions=advice.for_customer(customer, left.remaining, today),
        upcoming=upcoming,
        past=past,
        moves=moves,
        chain=referrals.chain(user, customer, below=customer.has_referred),
        complaints=complaints.for_customer(customer) if customer.has_complaints else (),
        callbacks=calls.open_for_customer(customer) if customer.has_open_callbacks else (),
        history=history,
        names=audit.referenced_names(history, can_see),
        today=today,
        churn_reasons=churn.describe_all(customer.churn_reasons, customer.churn_scored_at),
        opportunities=(
            pipeline.opportunities_of(user, "all", customer_id=customer.id, limit=50)
            if customer.has_opportunities
            else ()
        ),
        summary=summary.summarise(
            customer,
            age=hints.age_on(customer.birth_date, today),
            planned=upcoming,
            budget=left,
            today=today,
        ),
        activity=timeline.timeline(
            customer.id,
            moves,
            activity,
            activity_page,
            none_of=_kinds_without_rows(customer),
        ),
    )
