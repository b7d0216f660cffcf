"""Willingness (意愿): how close a customer is to us, 0–100, and what moves it.

Staff re-assess it directly, with a reason; later, experience responses, referrals and
complaints move it by configured deltas. Every change re-evaluates the quadrant.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l

from crm.core import audit
from crm.core.inputs import InvalidInput, refuse_control_characters, refuse_too_long
from crm.core.revisions import flush_revision, require_version
from crm.extensions import db
from crm.models import Customer, Staff
from crm.models.customer import WILLINGNESS_MAX, WILLINGNESS_MIN
from crm.models.enums import MoveCause
from crm.services.customers import tiering
from crm.services.planning import planner

REASON_LIMIT = 500
_WHOLE = re.compile(r"\s*[+-]?[0-9]+\s*")


def read_score(value: Any, errors: dict[str, Any], field: str = "willingness") -> int | None:
    """A willingness score (意愿度) as given (a whole number, or its digits as text), or None
    with the reason under ``field``: the one check of the dossier, the re-assessment and
    the revision after an experience."""
    if isinstance(value, str) and _WHOLE.fullmatch(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        value = None
    if value is None or not WILLINGNESS_MIN <= value <= WILLINGNESS_MAX:
        errors[field] = _l("Willingness is a score from 0 to 100.")
        return None
    return value


def within_range(score: int) -> int:
    """A score moved by a step, kept within 0 and 100."""
    return max(WILLINGNESS_MIN, min(WILLINGNESS_MAX, score))


def reassess_willingness(
    user: Staff, customer: Customer, score: Any, reason: str | None, expected_version: int
) -> None:
    """Staff re-assess how close the customer is to us (意愿), with a reason; the caller commits."""
    errors: dict[str, Any] = {}
    score = read_score(score, errors)
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = _l("Say why the willingness changed.")
    refuse_too_long({"reason": (reason, REASON_LIMIT)}, errors)
    refuse_control_characters({"reason": reason}, errors)
    if errors:
        raise InvalidInput(errors)
    require_version(customer, expected_version)
    old = customer.willingness
    if score == old:
        return
    customer.willingness = score
    moved = tiering.place(customer, MoveCause.REASSESSMENT, user, note=reason)
    flush_revision(Customer, customer.id, expected_version)
    audit.record(
        user,
        "customer",
        customer.id,
        "update",
        {"willingness": (old, score)},
        customer_id=customer.id,
        version=customer.version,
        reason=reason,
    )
    if moved is not None:
        # The plan follows the customer into the new quadrant.
        planner.replan_customer(customer)


def nudge(
    user: Staff | None, customer: Customer, delta: int, cause: MoveCause, reason: str
) -> bool:
    """Move willingness by a configured ``delta`` for an event in the customer's life (a
    complaint opened, a referral given), re-tiering with that event as the cause; return
    whether the quadrant changed. The caller commits."""
    old = customer.willingness
    new = within_range(old + delta)
    if new == old:
        return False
    expected_version = customer.version
    with db.session.no_autoflush:
        customer.willingness = new
        moved = tiering.place(customer, cause, user, note=reason[:REASON_LIMIT])
    flush_revision(Customer, customer.id, expected_version)
    audit.record(
        user,
        "customer",
        customer.id,
        "update",
        {"willingness": (old, new)},
        customer_id=customer.id,
        version=customer.version,
        reason=reason[:REASON_LIMIT],
    )
    if moved is not None:
        planner.replan_customer(customer)
    return moved is not None
