"""Recording how an experience with one customer went (体验记录).

Recording closes the operating loop of seed 004: the outcome and the customer's response
are kept, the dossier is revised (档案修正) in the same step, the customer is re-tiered with
the experience as the cause, and after a move the plan is refitted to the new quadrant.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm
from flask import current_app
from flask_babel import lazy_gettext as _l

from crm.core import audit, reads
from crm.core.clock import local_today
from crm.core.inputs import InvalidInput, parse_amount, refuse_control_characters
from crm.core.revisions import flush_revision, stale
from crm.extensions import db
from crm.models import Customer, Experience, GroupEvent, Product, Staff
from crm.models.base import utcnow
from crm.models.enums import ExperienceStatus, MoveCause, Quadrant, Response
from crm.services.customers import suitability, tiering, willingness
from crm.services.customers.dossier_checks import MAX_ASSETS
from crm.services.experiences.plans import MAX_COST, NOTES_LIMIT, opened_on, optional_text
from crm.services.planning import contact_dates, planner


@dataclass
class Recorded:
    experience: Experience
    moved_from: Quadrant | None
    moved_to: Quadrant | None
    replanned: planner.PlanSummary | None = None


@dataclass
class _Entry:
    """What was entered, checked: the record itself and the dossier revision made with it."""

    outcome: ExperienceStatus
    held_on: date | None
    response: Response | None
    actual_cost: Decimal | None
    notes: str | None
    product: Product | None
    liquid_assets: Decimal | None
    willingness: int


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
    _refuse_unless_recordable(experience, expected_version, expected_customer_version)
    entry = _read_entry(experience, data, today)

    before = _recorded_fields(experience)
    old_quadrant = customer.quadrant
    with db.session.no_autoflush:
        _keep_record(user, experience, entry)
        customer_changes = _revise_dossier(user, experience, entry)
    flush_revision(Customer, customer.id, expected_customer_version)
    _audit_record(user, experience, before, customer_changes)
    contact_dates.refresh([customer.id], today)

    recorded = Recorded(experience, None, None)
    if customer.quadrant != old_quadrant:
        recorded.moved_from, recorded.moved_to = old_quadrant, customer.quadrant
        recorded.replanned = planner.replan_customer(customer, today)
    return recorded


# --- the checks ---------------------------------------------------------------------------

ALREADY_RECORDED = _l("This experience has already been recorded.")


def already_recorded(experience: Experience) -> bool:
    """Recorded once, which is all it may be: a guest's response is recorded once, after
    the event's attendance; any other experience once, when it leaves "planned"."""
    return experience.recorded_at is not None or (
        experience.group_event_id is None and experience.status != ExperienceStatus.PLANNED
    )


def _refuse_unless_recordable(
    experience: Experience, expected_version: int, expected_customer_version: int
) -> None:
    """Once only, on the versions the staff member saw; a guest's after the attendance."""
    customer = experience.customer
    if experience.recorded_at is not None:
        raise InvalidInput({"": ALREADY_RECORDED})
    # A stale form first: whoever recorded it meanwhile, the user sees what they changed.
    if experience.version != expected_version or customer.version != expected_customer_version:
        raise stale(customer, "customer", customer.id, expected_customer_version)
    if already_recorded(experience):
        raise InvalidInput({"": ALREADY_RECORDED})
    if experience.group_event_id is not None and experience.status == ExperienceStatus.PLANNED:
        raise InvalidInput(
            {"": _l("Record the event's attendance first; then each guest's response.")}
        )


def _read_entry(experience: Experience, data: Mapping[str, Any], today: date) -> _Entry:
    """Every field checked, or the refusal with every error at once."""
    customer = experience.customer
    errors: dict[str, Any] = {}
    outcome = _read_outcome(experience, data, errors)
    held_on = _read_held_on(experience, data, outcome, today, errors)
    response = _read_response(data, outcome, errors)
    actual_cost = _read_actual_cost(experience, data, outcome, errors)
    notes = optional_text(data, "notes", NOTES_LIMIT, errors)
    # A product recommended during the experience, within the customer's risk level (适当性).
    product = suitability.shelf_product(data.get("product_id"), "product_id", errors)
    if outcome != ExperienceStatus.DONE and product is not None:
        errors["product_id"] = _l("A product is recommended only in an experience that was held.")
    suitability.check_product(customer, product, "product_id", errors)
    assets = _revised_assets(customer, data, outcome, errors)
    score = _revised_willingness(customer, data, outcome, response, errors)
    refuse_control_characters({"notes": notes}, errors)
    if errors:
        raise InvalidInput(errors)
    return _Entry(outcome, held_on, response, actual_cost, notes, product, assets, score)


def _read_outcome(
    experience: Experience, data: Mapping[str, Any], errors: dict
) -> ExperienceStatus | None:
    try:
        outcome = ExperienceStatus(data.get("outcome") or "")
        if outcome == ExperienceStatus.PLANNED:
            raise ValueError
    except ValueError:
        errors["outcome"] = _l("Choose one of the listed values.")
        outcome = None
    if experience.group_event_id is not None:
        outcome = experience.status  # attendance decided it, and the cost share
    return outcome


def _read_held_on(
    experience: Experience,
    data: Mapping[str, Any],
    outcome: ExperienceStatus | None,
    today: date,
    errors: dict,
) -> date | None:
    from_event = experience.group_event_id is not None
    held_on = data.get("held_on") or (experience.held_on if from_event else None)
    if outcome in (ExperienceStatus.DONE, ExperienceStatus.NO_SHOW):
        if held_on is None:
            errors["held_on"] = _l("Enter the date.")
        elif held_on > today:
            errors["held_on"] = _l("An experience cannot be recorded before it happens.")
        elif held_on < opened_on(experience.customer):
            errors["held_on"] = _l("The date is before the customer's dossier was opened.")
    return held_on


def _read_response(
    data: Mapping[str, Any], outcome: ExperienceStatus | None, errors: dict
) -> Response | None:
    """The customer's response: required after a held experience, none after a no-show."""
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
    return response


# --- cost and the dossier revision --------------------------------------------------------


def _read_actual_cost(
    experience: Experience,
    data: Mapping[str, Any],
    outcome: ExperienceStatus | None,
    errors: dict,
) -> Decimal | None:
    """What the experience cost the budget: as entered, else the planned cost if it was held;
    a guest's stays the share the attendance gave them."""
    if experience.group_event_id is not None:
        return experience.actual_cost
    raw_cost = data.get("actual_cost")
    if outcome == ExperienceStatus.CANCELLED:
        return None
    if raw_cost in (None, ""):
        return experience.planned_cost if outcome == ExperienceStatus.DONE else None
    return parse_amount(raw_cost, "actual_cost", errors, maximum=MAX_COST)


def _revised_assets(
    customer: Customer, data: Mapping[str, Any], outcome: ExperienceStatus | None, errors: dict
) -> Decimal | None:
    """The liquid assets learnt in the experience (empty, or a cancelled one: unchanged)."""
    raw_assets = data.get("liquid_assets")
    if outcome == ExperienceStatus.CANCELLED or raw_assets in (None, ""):
        return customer.liquid_assets
    return parse_amount(raw_assets, "liquid_assets", errors, maximum=MAX_ASSETS)


def _revised_willingness(
    customer: Customer,
    data: Mapping[str, Any],
    outcome: ExperienceStatus | None,
    response: Response | None,
    errors: dict,
) -> int:
    """The staff member's score if given, else the old one moved by the response's delta."""
    raw_will = data.get("willingness")
    raw_will = raw_will.strip() if isinstance(raw_will, str) else raw_will
    if outcome == ExperienceStatus.CANCELLED:
        return customer.willingness
    if raw_will in (None, ""):
        return willingness.within_range(customer.willingness + response_delta(response))
    score = willingness.read_score(raw_will, errors)
    return customer.willingness if score is None else score


# --- writing it down ----------------------------------------------------------------------


def _recorded_fields(experience: Experience) -> dict[str, Any]:
    return {
        "outcome": experience.status,
        "held_on": experience.held_on,
        "response": experience.response,
        "actual_cost": experience.actual_cost,
        "notes": experience.notes,
        "product_id": experience.product_id,
    }


def _keep_record(user: Staff, experience: Experience, entry: _Entry) -> None:
    experience.status = entry.outcome
    cancelled = entry.outcome == ExperienceStatus.CANCELLED
    experience.held_on = entry.held_on if not cancelled else None
    experience.response = entry.response
    experience.actual_cost = entry.actual_cost
    experience.notes = entry.notes if entry.notes is not None else experience.notes
    if entry.product is not None:
        experience.product_id = entry.product.id
    experience.recorded_at = utcnow()
    experience.recorded_by_id = user.id


def _revise_dossier(
    user: Staff, experience: Experience, entry: _Entry
) -> dict[str, tuple[Any, Any]]:
    """Write the revised assets and willingness, and re-tier the customer with the experience
    as the cause; return what changed (nothing: the dossier and quadrant stay as they were)."""
    customer = experience.customer
    changes = audit.diff(
        {"liquid_assets": customer.liquid_assets, "willingness": customer.willingness},
        {"liquid_assets": entry.liquid_assets, "willingness": entry.willingness},
    )
    if changes:
        customer.liquid_assets = entry.liquid_assets
        if "liquid_assets" in changes:
            customer.assets_as_of = entry.held_on
        customer.willingness = entry.willingness
        customer.updated_at = utcnow()
        tiering.place(customer, MoveCause.EXPERIENCE, user, experience_id=experience.id)
    return changes


def _audit_record(
    user: Staff,
    experience: Experience,
    before: dict[str, Any],
    customer_changes: dict[str, tuple[Any, Any]],
) -> None:
    customer = experience.customer
    audit.record(
        user,
        "experience",
        experience.id,
        "record",
        audit.diff(before, _recorded_fields(experience)),
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
