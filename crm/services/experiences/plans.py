"""Experiences planned by hand for one customer, and the approval a plan outside the rules needs.

A category the experience matrix never offers the customer's quadrant, or a cost past their
12-month budget, is refused with the reason and by how much, unless a manager (or admin)
approves it with a reason, which is audited. Group-event invitations follow the same rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from crm.core import audit
from crm.core.clock import business_zone, local_today
from crm.core.inputs import (
    InvalidInput,
    parse_amount,
    refuse_control_characters,
    refuse_too_long,
)
from crm.extensions import db
from crm.models import Customer, Experience, Staff
from crm.models.enums import ExperienceStatus, Mark, PlanOrigin, Quadrant, Role, Touchpoint
from crm.services.planning import budget, contact_dates, holdouts, matrix

MAX_COST = Decimal("10000000.00")
NOTES_LIMIT = 2000
REASON_LIMIT = 500
PLAN_AHEAD = timedelta(days=366)


class OverLimit(InvalidInput):
    """A plan a manager must approve: a "never" category, or past the customer's budget."""


class HeldOut(InvalidInput):
    """A plan for a customer a running experiment holds out of the category: the staff
    member is told and may go on, and the plan is then counted as a contamination."""


def refuse_unwarned_holdout(customer: Customer, category: Touchpoint, confirmed: bool):
    """The running experiment that holds the customer out of ``category`` (None: none), or
    the warning, unless the staff member has already confirmed they go on."""
    experiment = holdouts.holdout_experiment(customer.id, category)
    if experiment is not None and not confirmed:
        raise HeldOut(
            {
                "holdout_confirmed": _l(
                    "Experiment “%(name)s” holds this customer out of this category: planning"
                    " it spoils the comparison and is counted as contamination. Tick “Plan"
                    " anyway” to go on.",
                    name=experiment.name,
                )
            }
        )
    return experiment


def may_approve(user: Staff) -> bool:
    return user.role in (Role.MANAGER, Role.ADMIN)


def opened_on(customer: Customer) -> date:
    """The business date the dossier was opened: nothing happened with the customer before."""
    return customer.created_at.astimezone(business_zone()).date()


def optional_text(data: Mapping[str, Any], field: str, limit: int, errors: dict) -> str | None:
    """A free-text field, trimmed (empty: None), refused past ``limit`` characters."""
    text = (data.get(field) or "").strip() or None
    refuse_too_long({field: (text, limit)}, errors)
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


def require_approval(user: Staff, reasons: dict[str, Any], reason: str | None) -> None:
    """Let a plan the rules refuse (``reasons``) through only as a manager's, with a reason."""
    if not reasons:
        return
    if not may_approve(user):
        reasons[""] = _l("A manager can approve it with a reason.")
        raise OverLimit(reasons)
    if not reason:
        reasons["approval_reason"] = _l("Give the reason for approving this.")
        raise OverLimit(reasons)


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
    today = local_today()
    category, due_on, cost, notes, reason = read_plan(customer, data, today)
    lock_budget(customer)
    approval = refusal_reasons(customer, category, cost, today)
    require_approval(user, approval, reason)
    holdout = refuse_unwarned_holdout(customer, category, bool(data.get("holdout_confirmed")))
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
    contact_dates.refresh([customer.id], today)
    if holdout is not None:
        holdouts.record_contamination(holdout, customer.id, experience.id, user.id)
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


def read_plan(
    customer: Customer, data: Mapping[str, Any], today: date
) -> tuple[Touchpoint, date, Decimal, str | None, str | None]:
    """The category, date, cost (the category's unit cost if left empty), notes and approval
    reason of a plan, or the refusal with every error."""
    errors: dict[str, Any] = {}
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
    notes = optional_text(data, "notes", NOTES_LIMIT, errors)
    reason = optional_text(data, "approval_reason", REASON_LIMIT, errors)
    refuse_control_characters({"notes": notes, "approval_reason": reason}, errors)
    if errors:
        raise InvalidInput(errors)
    return category, due_on, cost, notes, reason
