"""Experiences (客户体验) with one customer: planning one by hand, and recording how it went.

Recording closes the operating loop of seed 004: the outcome and the customer's response
are kept, the dossier is revised (档案修正) in the same step, the customer is re-tiered with
the experience as the cause, and after a move the plan is refitted to the new quadrant.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm
from flask import current_app
from flask_babel import lazy_gettext as _l

from crm.core import audit, reads
from crm.core.clock import business_zone, local_today
from crm.core.inputs import InvalidInput, parse_amount, refuse_control_characters
from crm.core.revisions import flush_revision, stale
from crm.extensions import db
from crm.models import Customer, Experience, GroupEvent, Staff
from crm.models.base import utcnow
from crm.models.enums import (
    ExperienceStatus,
    Mark,
    MoveCause,
    PlanOrigin,
    Quadrant,
    Response,
    Role,
    Touchpoint,
)
from crm.services.customers import suitability, tiering
from crm.services.customers.dossier import MAX_ASSETS
from crm.services.planning import budget, matrix, planner

MAX_COST = Decimal("10000000.00")
NOTES_LIMIT = 2000
REASON_LIMIT = 500
PLAN_AHEAD = timedelta(days=366)


class OverLimit(InvalidInput):
    """A plan a manager must approve: a "never" category, or past the customer's budget."""


def may_approve(user: Staff) -> bool:
    return user.role in (Role.MANAGER, Role.ADMIN)


def opened_on(customer: Customer) -> date:
    """The business date the dossier was opened: nothing happened with the customer before."""
    return customer.created_at.astimezone(business_zone()).date()


def _text(data: Mapping[str, Any], field: str, limit: int, errors: dict) -> str | None:
    text = (data.get(field) or "").strip() or None
    if text and len(text) > limit:
        errors[field] = _l("At most %(n)d characters.", n=limit)
    return text


def refusal_reasons(
    customer: Customer, category: Touchpoint, cost: Decimal, today: date
) -> dict[str, Any]:
    """Why this plan needs a manager's approval (empty: it does not)."""
    reasons: dict[str, Any] = {}
    rule = matrix.rule_for(customer.quadrant, category)
    if rule.mark == Mark.NEVER:
        reasons["category"] = _l(
            "The experience matrix does not offer this to %(quadrant)s customers.",
            quadrant=_quadrant_label(customer.quadrant),
        )
    excess = budget.budget_for(customer, today).excess(cost)
    if excess > 0:
        reasons["planned_cost"] = _l(
            "This would pass the customer's 12-month budget by ¥%(excess)s.",
            excess=f"{excess:,.2f}",
        )
    return reasons


def _quadrant_label(quadrant: Quadrant) -> str:
    from crm.labels import QUADRANT

    return QUADRANT[quadrant]


def lock_budget(customer: Customer) -> None:
    """Serialise budget checks for one customer (two plans at once could both fit alone)."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(
            sa.select(Customer.id).where(Customer.id == customer.id).with_for_update()
        )


def add_experience(user: Staff, customer: Customer, data: Mapping[str, Any]) -> Experience:
    """Staff plan an experience for one customer; the caller commits.

    A "never" category or a plan past the budget is refused with the reason and by how
    much, unless a manager (or admin) approves it with a reason, which is audited.
    """
    errors: dict[str, Any] = {}
    today = local_today()
    try:
        category = Touchpoint(data.get("category") or "")
    except ValueError:
        errors["category"] = _l("Choose one of the listed values.")
        category = None
    due_on = data.get("due_on")
    if due_on is None:
        errors["due_on"] = _l("Enter the date.")
    elif due_on < opened_on(customer):
        errors["due_on"] = _l("The date is before the customer's dossier was opened.")
    elif due_on > today + PLAN_AHEAD:
        errors["due_on"] = _l("Plan at most a year ahead.")
    raw_cost = data.get("planned_cost")
    if raw_cost in (None, "") and category is not None:
        cost = matrix.unit_cost(category)
    else:
        cost = parse_amount(raw_cost, "planned_cost", errors, maximum=MAX_COST)
    notes = _text(data, "notes", NOTES_LIMIT, errors)
    reason = _text(data, "approval_reason", REASON_LIMIT, errors)
    refuse_control_characters({"notes": notes, "approval_reason": reason}, errors)
    if errors:
        raise InvalidInput(errors)

    lock_budget(customer)
    approval = refusal_reasons(customer, category, cost, today)
    if approval:
        if not may_approve(user):
            approval[""] = _l("A manager can approve it with a reason.")
            raise OverLimit(approval)
        if not reason:
            approval["approval_reason"] = _l("Give the reason for approving this.")
            raise OverLimit(approval)
    experience = Experience(
        customer=customer,
        category=category,
        status=ExperienceStatus.PLANNED,
        origin=PlanOrigin.STAFF,
        due_on=due_on,
        planned_cost=cost,
        notes=notes,
        created_by_id=user.id,
        approved_by_id=user.id if approval else None,
        approval_reason=reason if approval else None,
        version=1,
    )
    db.session.add(experience)
    db.session.flush()
    changes = {
        "category": (None, category),
        "due_on": (None, due_on),
        "planned_cost": (None, cost),
        "notes": (None, notes),
    }
    if approval:
        changes["approved_by_id"] = (None, user.id)
    audit.record(
        user,
        "experience",
        experience.id,
        "create",
        {k: v for k, v in changes.items() if v[1] is not None},
        customer_id=customer.id,
        version=experience.version,
        reason=reason if approval else None,
    )
    return experience


@dataclass
class Recorded:
    experience: Experience
    moved_from: Quadrant | None
    moved_to: Quadrant | None
    replanned: planner.PlanSummary | None = None


def response_delta(response: Response | None) -> int:
    if response is None:
        return 0
    return int(current_app.config["CRM_RESPONSE_DELTAS"].get(response.value, 0))


def record_experience(
    user: Staff,
    experience: Experience,
    data: Mapping[str, Any],
    expected_version: int,
    expected_customer_version: int,
) -> Recorded:
    """Record how an experience went (体验记录) and revise the dossier (档案修正) with it.

    ``data``: outcome (done, no_show, cancelled), held_on, response, actual_cost, notes,
    liquid_assets (the revised figure; empty keeps it) and willingness (empty: moved by the
    response's configured delta; a number: the staff member's judgement). The caller commits.
    """
    customer = experience.customer
    today = local_today()
    errors: dict[str, Any] = {}
    if experience.recorded_at is not None:
        raise InvalidInput({"": _l("This experience has already been recorded.")})
    if experience.version != expected_version or customer.version != expected_customer_version:
        raise stale(customer, "customer", customer.id, expected_customer_version)
    from_event = experience.group_event_id is not None
    if not from_event and experience.status != ExperienceStatus.PLANNED:
        raise InvalidInput({"": _l("This experience has already been recorded.")})
    if from_event and experience.status == ExperienceStatus.PLANNED:
        raise InvalidInput(
            {"": _l("Record the event's attendance first; then each guest's response.")}
        )
    try:
        outcome = ExperienceStatus(data.get("outcome") or "")
        if outcome == ExperienceStatus.PLANNED:
            raise ValueError
    except ValueError:
        errors["outcome"] = _l("Choose one of the listed values.")
        outcome = None
    if from_event:
        outcome = experience.status  # attendance decided it, and the cost share
    held_on = data.get("held_on") or (experience.held_on if from_event else None)
    if outcome in (ExperienceStatus.DONE, ExperienceStatus.NO_SHOW):
        if held_on is None:
            errors["held_on"] = _l("Enter the date.")
        elif held_on > today:
            errors["held_on"] = _l("An experience cannot be recorded before it happens.")
        elif held_on < opened_on(customer):
            errors["held_on"] = _l("The date is before the customer's dossier was opened.")
    response = None
    raw_response = data.get("response") or None
    if raw_response is not None:
        try:
            response = Response(raw_response)
        except ValueError:
            errors["response"] = _l("Choose one of the listed values.")
    if outcome == ExperienceStatus.DONE and response is None and "response" not in errors:
        errors["response"] = _l("How did the customer respond?")
    if outcome == ExperienceStatus.NO_SHOW and response is None:
        response = Response.NO_RESPONSE
    if outcome == ExperienceStatus.CANCELLED:
        response = None
    actual_cost = experience.actual_cost
    if not from_event:
        raw_cost = data.get("actual_cost")
        if outcome == ExperienceStatus.CANCELLED:
            actual_cost = None
        elif raw_cost in (None, ""):
            actual_cost = experience.planned_cost if outcome == ExperienceStatus.DONE else None
        else:
            actual_cost = parse_amount(raw_cost, "actual_cost", errors, maximum=MAX_COST)
    notes = _text(data, "notes", NOTES_LIMIT, errors)
    # A product recommended during the experience, within the customer's risk level (适当性).
    product = suitability.shelf_product(data.get("product_id"), "product_id", errors)
    if outcome != ExperienceStatus.DONE and product is not None:
        errors["product_id"] = _l("A product is recommended only in an experience that was held.")
    suitability.check_product(customer, product, "product_id", errors)

    # The dossier revision made with the record.
    assets = customer.liquid_assets
    raw_assets = data.get("liquid_assets")
    if outcome != ExperienceStatus.CANCELLED and raw_assets not in (None, ""):
        assets = parse_amount(raw_assets, "liquid_assets", errors, maximum=MAX_ASSETS)
    raw_will = data.get("willingness")
    raw_will = raw_will.strip() if isinstance(raw_will, str) else raw_will
    if outcome == ExperienceStatus.CANCELLED:
        willingness = customer.willingness
    elif raw_will in (None, ""):
        willingness = max(0, min(100, customer.willingness + response_delta(response)))
    else:
        try:
            willingness = int(raw_will)
        except (TypeError, ValueError):
            willingness = -1
        if not 0 <= willingness <= 100:
            errors["willingness"] = _l("Willingness is a score from 0 to 100.")
    refuse_control_characters({"notes": notes}, errors)
    if errors:
        raise InvalidInput(errors)

    before = {
        "outcome": experience.status,
        "held_on": experience.held_on,
        "response": experience.response,
        "actual_cost": experience.actual_cost,
        "notes": experience.notes,
        "product_id": experience.product_id,
    }
    customer_before = {"liquid_assets": customer.liquid_assets, "willingness": customer.willingness}
    old_quadrant = customer.quadrant
    with db.session.no_autoflush:
        experience.status = outcome
        experience.held_on = held_on if outcome != ExperienceStatus.CANCELLED else None
        experience.response = response
        experience.actual_cost = actual_cost
        experience.notes = notes if notes is not None else experience.notes
        if product is not None:
            experience.product_id = product.id
        experience.recorded_at = utcnow()
        experience.recorded_by_id = user.id
        customer_changes = audit.diff(
            customer_before, {"liquid_assets": assets, "willingness": willingness}
        )
        if customer_changes:
            customer.liquid_assets = assets
            if "liquid_assets" in customer_changes:
                customer.assets_as_of = held_on
            customer.willingness = willingness
            customer.updated_at = utcnow()
            tiering.place(customer, MoveCause.EXPERIENCE, user, experience_id=experience.id)
    flush_revision(Customer, customer.id, expected_customer_version)
    changes = audit.diff(
        before,
        {
            "outcome": experience.status,
            "held_on": experience.held_on,
            "response": experience.response,
            "actual_cost": experience.actual_cost,
            "notes": experience.notes,
            "product_id": experience.product_id,
        },
    )
    audit.record(
        user,
        "experience",
        experience.id,
        "record",
        changes,
        customer_id=customer.id,
        version=experience.version,
    )
    if customer_changes:
        audit.record(
            user,
            "customer",
            customer.id,
            "update",
            customer_changes,
            customer_id=customer.id,
            version=customer.version,
            reason=f"experience #{experience.id}",
        )
    recorded = Recorded(experience, None, None)
    if customer.quadrant != old_quadrant:
        recorded.moved_from, recorded.moved_to = old_quadrant, customer.quadrant
        recorded.replanned = planner.replan_customer(customer, today)
    return recorded


# --- what the dossier and the agenda show -------------------------------------------------


@functools.cache
def _dossier_statement() -> sa.CompoundSelect:
    """A dossier's first planned and latest past experiences in one statement, each with the
    names the page shows beside it: the group event's title and who approved an exception."""
    approver = sa.orm.aliased(Staff)
    on = sa.func.coalesce(Experience.held_on, Experience.due_on)
    base = (
        sa.select(
            *Experience.__table__.c,
            GroupEvent.title.label("group_event_title"),
            approver.display_name.label("approver_name"),
        )
        .outerjoin(GroupEvent, GroupEvent.id == Experience.group_event_id)
        .outerjoin(approver, approver.id == Experience.approved_by_id)
        .where(Experience.customer_id == sa.bindparam("customer_id"))
        .limit(sa.bindparam("limit"))
    )
    planned = base.where(Experience.status == ExperienceStatus.PLANNED).order_by(
        Experience.due_on, Experience.id
    )
    held = base.where(Experience.status != ExperienceStatus.PLANNED).order_by(
        on.desc(), Experience.id.desc()
    )
    # Each part keeps its own order and limit inside a subquery (SQLite allows no LIMIT on
    # a part of a UNION otherwise); the caller sorts the few rows again.
    return sa.union_all(*(sa.select(part.subquery()) for part in (planned, held)))


def for_dossier(customer: Customer, limit: int = 20) -> tuple[list[sa.Row], list[sa.Row]]:
    """Planned experiences, soonest first (overdue ones at the top), and recorded or
    cancelled ones, latest first: at most ``limit`` of each."""
    rows = reads.rows(_dossier_statement(), customer_id=customer.id, limit=limit)
    planned = [r for r in rows if r.status == ExperienceStatus.PLANNED]
    held = [r for r in rows if r.status != ExperienceStatus.PLANNED]
    planned.sort(key=lambda r: (r.due_on, r.id))
    held.sort(key=lambda r: (r.held_on or r.due_on, r.id), reverse=True)
    return planned, held
