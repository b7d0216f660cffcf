"""Approval requests (审批申请): a plan the rules refused, asked of the branch's managers.

Planning an experience past the customer's 12-month budget, or of a category the matrix
marks × for their quadrant, is refused (``experiences.plans``). Staff may then ask for
approval with a reason; the branch's managers see the request at /approvals, on their today
page and in their digest. Approving plans the experience with the approver and their reason
recorded, letting through only the rules that refused it when asked, for that one
experience; declining tells the staff member why. Both are audited; one's own request, or one
already decided, is refused.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import abort
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from crm.core import audit, reads
from crm.core.clock import local_today
from crm.core.dates import date_text
from crm.core.inputs import InvalidInput, refuse_control_characters, refuse_too_long
from crm.extensions import db
from crm.labels import TOUCHPOINT
from crm.models import ApprovalRequest, ApprovalStatus, Customer, Experience, Staff
from crm.models.base import utcnow
from crm.models.enums import ExperienceStatus, NotificationKind, PlanOrigin, Role
from crm.services.experiences import plans
from crm.services.outreach import inbox
from crm.services.planning import contact_dates

REASON_LIMIT = 500  # ApprovalRequest.reason and decision_reason
SHOWN = 50  # requests listed at /approvals, oldest first

NOT_NEEDED = _l("This plan needs no approval: plan it directly.")
ALREADY_DECIDED = _l("This request has already been decided.")
OWN_REQUEST = _l("You cannot decide your own request: another manager must.")


def may_decide(user: Staff) -> bool:
    return user.role in (Role.MANAGER, Role.ADMIN)


def _waiting_scope(user: Staff) -> sa.ColumnElement[bool]:
    """The requests ``user`` decides: their branch's (a manager), every branch's (an admin)."""
    if user.role == Role.ADMIN:
        return sa.true()
    if user.role == Role.MANAGER and user.branch_id is not None:
        return ApprovalRequest.branch_id == user.branch_id
    return sa.false()


def _reason(data: Mapping[str, Any], field: str, errors: dict, required) -> str | None:
    text = (data.get(field) or "").strip() or None
    if text is None and required is not None:
        errors[field] = required
    refuse_too_long({field: (text, REASON_LIMIT)}, errors)
    refuse_control_characters({field: text}, errors)
    return text


# --- asking ----------------------------------------------------------------------------------


def request_approval(user: Staff, customer: Customer, data: Mapping[str, Any]) -> ApprovalRequest:
    """Staff ask the branch's managers to approve a plan the rules refused; the caller commits.

    ``data``: the plan's fields as ``plans.add_experience`` reads them, and ``reason``.
    """
    today = local_today()
    errors: dict[str, Any] = {}
    reason = _reason(data, "reason", errors, _l("Say why the customer should have it."))
    try:
        category, due_on, cost, notes, _approval = plans.read_plan(customer, data, today)
    except InvalidInput as error:
        raise InvalidInput({**error.errors, **errors}) from None
    if errors:
        raise InvalidInput(errors)
    refused = plans.refusal_reasons(customer, category, cost, today)
    if not refused:
        raise InvalidInput({"": NOT_NEEDED})
    request = ApprovalRequest(
        customer_id=customer.id,
        branch_id=customer.branch_id,
        requested_by_id=user.id,
        category=category,
        due_on=due_on,
        planned_cost=cost,
        notes=notes,
        reason=reason,
        refused_for=",".join(sorted(refused)),
        status=ApprovalStatus.PENDING,
    )
    db.session.add(request)
    db.session.flush()
    audit.record(
        user,
        "approval_request",
        request.id,
        "create",
        {
            "category": (None, category),
            "due_on": (None, due_on),
            "planned_cost": (None, cost),
        },
        customer_id=customer.id,
        reason=reason,
    )
    return request


# --- waiting -----------------------------------------------------------------------------------


def get_request_or_404(request_id: int, user: Staff) -> ApprovalRequest:
    """A request ``user`` may decide or made themselves, else 404 whether it exists or not."""
    request = db.session.get(ApprovalRequest, request_id)
    if request is None:
        abort(404)
    deciding = user.role == Role.ADMIN or (
        user.role == Role.MANAGER and request.branch_id == user.branch_id
    )
    if request.requested_by_id != user.id and not deciding:
        abort(404)
    return request


def waiting(user: Staff, limit: int = SHOWN) -> list[ApprovalRequest]:
    """The requests waiting for ``user``'s decision, oldest first."""
    return list(
        db.session.scalars(
            sa.select(ApprovalRequest)
            .where(_waiting_scope(user), ApprovalRequest.status == ApprovalStatus.PENDING)
            .order_by(ApprovalRequest.id)
            .limit(limit)
        )
    )


@functools.cache
def _waiting_count_statement() -> sa.Select:
    return (
        sa.select(sa.func.count())
        .select_from(ApprovalRequest)
        .where(
            ApprovalRequest.branch_id == sa.bindparam("branch_id"),
            ApprovalRequest.status == ApprovalStatus.PENDING,
        )
    )


def waiting_count(user: Staff) -> int:
    """How many requests wait for ``user`` (the today page's line)."""
    if user.role == Role.ADMIN:
        return db.session.scalar(
            sa.select(sa.func.count())
            .select_from(ApprovalRequest)
            .where(ApprovalRequest.status == ApprovalStatus.PENDING)
        )
    if user.role != Role.MANAGER or user.branch_id is None:
        return 0
    return reads.scalar(_waiting_count_statement(), branch_id=user.branch_id)


def mine(user: Staff, limit: int = SHOWN) -> list[ApprovalRequest]:
    """The requests ``user`` made, newest first."""
    return list(
        db.session.scalars(
            sa.select(ApprovalRequest)
            .where(ApprovalRequest.requested_by_id == user.id)
            .order_by(ApprovalRequest.id.desc())
            .limit(limit)
        )
    )


# --- deciding ----------------------------------------------------------------------------------


def _refuse_undecidable(user: Staff, request: ApprovalRequest) -> None:
    if not may_decide(user):
        abort(404)
    if request.requested_by_id == user.id:
        raise InvalidInput({"": OWN_REQUEST})
    if request.status != ApprovalStatus.PENDING:
        raise InvalidInput({"": ALREADY_DECIDED})


def _claim(request: ApprovalRequest, status: ApprovalStatus, user: Staff, reason, now) -> None:
    """Mark the request decided, if nobody decided it first (two managers at once: one wins)."""
    result = db.session.execute(
        sa.update(ApprovalRequest)
        .where(ApprovalRequest.id == request.id, ApprovalRequest.status == ApprovalStatus.PENDING)
        .values(status=status, decided_by_id=user.id, decided_at=now, decision_reason=reason)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise InvalidInput({"": ALREADY_DECIDED})
    db.session.refresh(request)


def approve(user: Staff, request: ApprovalRequest, data: Mapping[str, Any]) -> Experience:
    """Plan the requested experience as ``user``'s approval; the caller commits.

    The approver's reason (else the staff member's) is recorded on the experience. Only the
    rules that refused the plan when asked are let through: anything else now in the way
    (the matrix changed its mark since) refuses the approval.
    """
    _refuse_undecidable(user, request)
    errors: dict[str, Any] = {}
    reason = _reason(data, "decision_reason", errors, None) or request.reason
    if errors:
        raise InvalidInput(errors)
    customer = request.customer
    plans.lock_budget(customer)
    today = local_today()
    now_refused = plans.refusal_reasons(customer, request.category, request.planned_cost, today)
    beyond = {k: v for k, v in now_refused.items() if k not in request.refused_rules}
    if beyond:
        raise InvalidInput(beyond)
    now = utcnow()
    _claim(request, ApprovalStatus.APPROVED, user, reason, now)
    experience = Experience(
        customer=customer,
        category=request.category,
        status=ExperienceStatus.PLANNED,
        origin=PlanOrigin.STAFF,
        due_on=request.due_on,
        planned_cost=request.planned_cost,
        notes=request.notes,
        created_by_id=request.requested_by_id,
        approved_by_id=user.id,
        approval_reason=reason,
        version=1,
    )
    db.session.add(experience)
    db.session.flush()
    contact_dates.refresh([customer.id], today)
    request.experience_id = experience.id
    changes = {
        "category": (None, request.category),
        "due_on": (None, request.due_on),
        "planned_cost": (None, request.planned_cost),
        "notes": (None, request.notes),
        "approved_by_id": (None, user.id),
    }
    audit.record(
        user,
        "experience",
        experience.id,
        "create",
        {k: v for k, v in changes.items() if v[1] is not None},
        customer_id=customer.id,
        version=experience.version,
        reason=reason,
    )
    _audit_decision(user, request, reason)
    _tell_requester(request, now)
    return experience


def decline(user: Staff, request: ApprovalRequest, data: Mapping[str, Any]) -> None:
    """Decline a request with the reason the staff member is told; the caller commits."""
    _refuse_undecidable(user, request)
    errors: dict[str, Any] = {}
    reason = _reason(data, "decision_reason", errors, _l("Say why, for the staff member."))
    if errors:
        raise InvalidInput(errors)
    now = utcnow()
    _claim(request, ApprovalStatus.DECLINED, user, reason, now)
    _audit_decision(user, request, reason)
    _tell_requester(request, now)


def _audit_decision(user: Staff, request: ApprovalRequest, reason: str) -> None:
    changes = {"approval_status": (ApprovalStatus.PENDING, request.status)}
    if request.experience_id:
        changes["experience_id"] = (None, request.experience_id)
    audit.record(
        user,
        "approval_request",
        request.id,
        "update",
        changes,
        customer_id=request.customer_id,
        reason=reason,
    )


def decision_message(request: ApprovalRequest) -> inbox.Message:
    """What the staff member reads of the decision, in their language."""
    with force_locale(inbox.locale_of(request.requested_by)):
        what = _(
            "%(category)s for %(name)s on %(date)s",
            category=TOUCHPOINT[request.category],
            name=request.customer.name,
            date=date_text(request.due_on),
        )
        if request.status == ApprovalStatus.APPROVED:
            title = _("Approved: %(what)s", what=what)
        else:
            title = _("Declined: %(what)s", what=what)
        body = _(
            "%(manager)s: %(reason)s",
            manager=request.decided_by.display_name,
            reason=request.decision_reason,
        )
        return inbox.Message(title=title[: inbox.TITLE_LIMIT], body=body, sms=title)


def _tell_requester(request: ApprovalRequest, now: datetime) -> None:
    link = f"/customers/{request.customer_id}"
    key = f"approval:{request.id}:{request.status.value}"
    message = decision_message(request)
    inbox.post(NotificationKind.APPROVAL, {key: (request.requested_by, message, link)}, now)
