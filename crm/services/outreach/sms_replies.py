"""Inbound SMS replies: an opt-out word takes effect at once."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from crm.core import audit
from crm.core.clock import business_zone
from crm.extensions import db
from crm.models import Customer, OutboxMessage
from crm.models.base import utcnow
from crm.models.enums import MessagePurpose, OutboxStatus
from crm.services.outreach import sms_rules
from crm.services.outreach.sending import close_experiences
from crm.services.planning import planner


def record_reply(phone: str, text: str, now: datetime | None = None) -> Customer | None:
    """An inbound SMS: an opt-out word opts the customer out at once, and their queued
    marketing messages are withdrawn. Returns the customer who opted out, if any.
    The caller commits."""
    if not sms_rules.is_opt_out(text):
        return None
    customer = db.session.scalar(sa.select(Customer).where(Customer.phone == phone))
    if customer is None or customer.sms_opt_out_at is not None:
        return None
    now = now or utcnow()
    customer.sms_consent = False
    customer.sms_opt_out_at = now
    withdrawn = db.session.scalars(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.customer_id == customer.id,
            OutboxMessage.purpose == MessagePurpose.MARKETING,
            OutboxMessage.status == OutboxStatus.QUEUED,
        )
        .values(status=OutboxStatus.SKIPPED, error="opted out by SMS reply")
        .returning(OutboxMessage.experience_id)
        .execution_options(synchronize_session=False)
    ).all()
    # Their contacts are cancelled, as dispatch cancels those of the messages it skips
    # (the planner's cancel below leaves staff-planned and overdue ones).
    close_experiences([], [e for e in withdrawn if e is not None], now)
    # The planned SMS go too (the planner would cancel them on its next run anyway).
    planner.cancel_disallowed(now.astimezone(business_zone()).date(), Customer.id == customer.id)
    audit.record(
        None,
        "customer",
        customer.id,
        "update",
        {"sms_consent": (True, False), "sms_opt_out_at": (None, now)},
        customer_id=customer.id,
        version=customer.version + 1,
        reason=f"SMS reply: {text.strip()[:40]}",
    )
    return customer
