"""Queueing the outbox (发件箱): planned SMS and staff reminders become rows, each exactly once.

Enqueue turns routine contacts due today into rows rendered from a template
(``sms_templates``), each with an idempotency key (one per planned contact), so running it
twice queues nothing twice. Staff members' own copies of their notifications are queued the
same way, under the notification's key. ``dispatch`` sends the rows; inbound replies are
``sms_replies``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from crm.core.clock import local_today
from crm.core.idempotent import insert_new
from crm.extensions import db
from crm.models import Customer, Experience, OutboxMessage, SmsTemplate, Staff
from crm.models.base import utcnow
from crm.models.enums import (
    ExperienceStatus,
    MessagePurpose,
    OutboxStatus,
    RelationshipStatus,
    Touchpoint,
)
from crm.services.outreach import sms_rules, sms_templates

# Overdue routine contacts older than this are not sent late; the planner plans the next.
LATE_LIMIT = timedelta(days=3)


def experience_key(experience_id: int) -> str:
    return f"experience:{experience_id}"


def _insert_ignoring_duplicates(rows: list[dict]) -> int:
    """Insert outbox rows; a row whose idempotency key exists is left as it is."""
    return len(insert_new(OutboxMessage.__table__, rows))


def _due_contacts(today: date, after_id: int, chunk: int) -> list[sa.Row]:
    """The next ``chunk`` routine contacts due by ``today`` (and not too late) that have no
    outbox row yet, in id order from ``after_id``: (experience id, customer, owner)."""
    return db.session.execute(
        sa.select(Experience.id, Customer, Staff, Experience.occasion)
        .join(Customer, Customer.id == Experience.customer_id)
        .join(Staff, Staff.id == Customer.owner_id)
        .where(
            Experience.id > after_id,
            Experience.category == Touchpoint.ROUTINE,
            Experience.status == ExperienceStatus.PLANNED,
            Experience.due_on <= today,
            Experience.due_on >= today - LATE_LIMIT,
            # A greeting is sent on its day or not at all.
            sa.or_(Experience.occasion.is_(None), Experience.due_on == today),
            # A lost customer (流失) is sent nothing, whatever is still planned.
            Customer.relationship_status != RelationshipStatus.LOST,
            ~sa.exists().where(OutboxMessage.experience_id == Experience.id),
        )
        .order_by(Experience.id)
        .limit(chunk)
    ).all()


def _last_topics(customer_ids: set[int]) -> dict[int, str]:
    """Each customer's latest marketing SMS's template, so the next is of another kind."""
    latest = (
        sa.select(sa.func.max(OutboxMessage.id))
        .where(
            OutboxMessage.customer_id.in_(customer_ids),
            OutboxMessage.purpose == MessagePurpose.MARKETING,
        )
        .group_by(OutboxMessage.customer_id)
    )
    rows = db.session.execute(
        sa.select(OutboxMessage.customer_id, OutboxMessage.template_key).where(
            OutboxMessage.id.in_(latest)
        )
    )
    return dict(rows.all())


def _marketing_row(
    experience_id: int,
    customer: Customer,
    owner: Staff,
    templates: list[SmsTemplate],
    not_before: datetime,
    now: datetime,
    occasion: str | None = None,
    last: str | None = None,
) -> dict:
    """The outbox row of one routine contact, rendered from the template chosen for it (the
    occasion's, for a greeting)."""
    template = None
    if occasion is not None:
        template = sms_templates.occasion_template(templates, customer, occasion)
    if template is None:
        template = sms_templates.choose_template(templates, customer, experience_id, last)
    return {
        "idempotency_key": experience_key(experience_id),
        "purpose": MessagePurpose.MARKETING,
        "channel": "sms",
        "customer_id": customer.id,
        "experience_id": experience_id,
        "recipient": customer.phone,
        "template_key": template.key,
        "body": sms_templates.render(template, customer, owner),
        "status": OutboxStatus.QUEUED,
        "not_before": not_before,
        "attempts": 0,
        "created_at": now,
    }


def enqueue_due(today: date | None = None, now: datetime | None = None, chunk: int = 5_000) -> int:
    """Queue the routine contacts due today (or a little late) as SMS; idempotent."""
    today = today or local_today()
    now = now or utcnow()
    templates = sms_templates.active_templates(current_app.config["CRM_SMS_LOCALE"])
    not_before = sms_rules.next_window_start(now)
    queued = 0
    last_id = 0
    while batch := _due_contacts(today, last_id, chunk):
        last = _last_topics({customer.id for _, customer, _, _ in batch})
        rows = [
            _marketing_row(
                experience_id,
                customer,
                owner,
                templates,
                not_before,
                now,
                occasion,
                last.get(customer.id),
            )
            for experience_id, customer, owner, occasion in batch
        ]
        queued += _insert_ignoring_duplicates(rows)
        db.session.commit()
        last_id = batch[-1][0]
    return queued


def enqueue_staff_message(
    staff: Staff, key: str, body: str, *, channel: str = "sms", now: datetime | None = None
) -> bool:
    """Queue a reminder to a staff member's own phone or e-mail (no marketing rules);
    False if one with this key exists already. The caller commits."""
    recipient = staff.phone if channel == "sms" else staff.email
    if not recipient:
        return False
    return bool(
        _insert_ignoring_duplicates(
            [
                {
                    "idempotency_key": key,
                    "purpose": MessagePurpose.STAFF,
                    "channel": channel,
                    "staff_id": staff.id,
                    "recipient": recipient,
                    "body": body,
                    "status": OutboxStatus.QUEUED,
                    "not_before": now or utcnow(),
                    "attempts": 0,
                    "created_at": now or utcnow(),
                }
            ]
        )
    )
