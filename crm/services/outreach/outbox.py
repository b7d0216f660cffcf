"""The outbox (发件箱): planned SMS become rows, and the dispatcher sends each exactly once.

Enqueue turns routine contacts due today into rows rendered from a template
(``sms_templates``), each with an idempotency key (one per planned contact), so running it
twice queues nothing twice. Inbound replies are ``sms_replies``.

Dispatch claims due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two dispatchers never
claim the same row), commits them as "sending" *before* calling the provider, applies the
rules (consent, opt-out, window, weekly cap) and records the provider's id after. A crash
leaves rows in "sending"; the next dispatch asks the provider about each one that has sat
there too long (``reconcile``): sent → recorded as sent, never received → queued again,
unknown → marked for reconciliation by a person. Nothing is re-sent blindly. One failing
recipient never stops the batch.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import ARRAY

from crm.core.clock import business_zone, local_today
from crm.core.idempotent import insert_new
from crm.extensions import db
from crm.models import Customer, Experience, OutboxMessage, Staff
from crm.models.base import utcnow
from crm.models.enums import (
    ExperienceStatus,
    MessagePurpose,
    OutboxStatus,
    Touchpoint,
)
from crm.providers import LookupResult, ProviderError, SmsProvider, provider_for
from crm.services.outreach import sms_rules, sms_templates

# Overdue routine contacts older than this are not sent late; the planner plans the next.
LATE_LIMIT = timedelta(days=3)
RETRY_DELAY = timedelta(minutes=10)
MAX_ATTEMPTS = 5


def experience_key(experience_id: int) -> str:
    return f"experience:{experience_id}"


# --- enqueue ----------------------------------------------------------------------------


def _insert_ignoring_duplicates(rows: list[dict]) -> int:
    """Insert outbox rows; a row whose idempotency key exists is left as it is."""
    return len(insert_new(OutboxMessage.__table__, rows))


def enqueue_due(today: date | None = None, now: datetime | None = None, chunk: int = 5_000) -> int:
    """Queue the routine contacts due today (or a little late) as SMS; idempotent."""
    today = today or local_today()
    now = now or utcnow()
    locale = current_app.config["CRM_SMS_LOCALE"]
    templates = sms_templates.active_templates(locale)
    not_before = sms_rules.next_window_start(now)
    queued = 0
    last_id = 0
    while True:
        batch = db.session.execute(
            sa.select(Experience.id, Customer, Staff)
            .join(Customer, Customer.id == Experience.customer_id)
            .join(Staff, Staff.id == Customer.owner_id)
            .where(
                Experience.id > last_id,
                Experience.category == Touchpoint.ROUTINE,
                Experience.status == ExperienceStatus.PLANNED,
                Experience.due_on <= today,
                Experience.due_on >= today - LATE_LIMIT,
                ~sa.exists().where(OutboxMessage.experience_id == Experience.id),
            )
            .order_by(Experience.id)
            .limit(chunk)
        ).all()
        if not batch:
            break
        rows = []
        for experience_id, customer, owner in batch:
            template = sms_templates.choose_template(templates, customer, experience_id)
            rows.append(
                {
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
            )
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


# --- dispatch ---------------------------------------------------------------------------


@dataclass
class DispatchSummary:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    deferred: int = 0
    uncertain: int = 0
    reconciled: Counter = field(default_factory=Counter)


OUTBOX = OutboxMessage.__table__
# What dispatch reads of a claimed message (plain rows: ORM objects would cost more than the
# sending itself at bank scale).
CLAIMED_COLUMNS = (
    OUTBOX.c.id,
    OUTBOX.c.idempotency_key,
    OUTBOX.c.purpose,
    OUTBOX.c.channel,
    OUTBOX.c.customer_id,
    OUTBOX.c.experience_id,
    OUTBOX.c.recipient,
    OUTBOX.c.body,
    OUTBOX.c.attempts,
    OUTBOX.c.not_before,
)


def _claim(now: datetime, batch: int) -> list[sa.Row]:
    """Take up to ``batch`` due messages for this dispatcher and commit them as "sending",
    in one UPDATE … RETURNING (on PostgreSQL the rows are picked ``FOR UPDATE SKIP LOCKED``,
    so two dispatchers never take the same message)."""
    due = sa.and_(OUTBOX.c.status == OutboxStatus.QUEUED.value, OUTBOX.c.not_before <= now)
    if not sms_rules.in_window(now):
        due = sa.and_(due, OUTBOX.c.purpose == MessagePurpose.STAFF.value)
    pick = sa.select(OUTBOX.c.id).where(due).order_by(OUTBOX.c.not_before, OUTBOX.c.id)
    pick = pick.limit(batch)
    if db.engine.dialect.name == "postgresql":
        # Picked first, then updated by id: inside an UPDATE's WHERE, PostgreSQL may run a
        # LIMIT … SKIP LOCKED subquery more than once and so claim more than a batch.
        ids = list(db.session.scalars(pick.with_for_update(skip_locked=True)))
        if not ids:
            db.session.commit()
            return []
        picked = _ids_in(OUTBOX.c.id, ids)
    else:
        picked = OUTBOX.c.id.in_(pick.scalar_subquery())
    rows = db.session.execute(
        OUTBOX.update()
        .where(picked, due)
        .values(status=OutboxStatus.SENDING.value, claimed_at=now, attempts=OUTBOX.c.attempts + 1)
        .returning(*CLAIMED_COLUMNS)
    ).all()
    db.session.commit()
    return sorted(rows, key=lambda row: row.id)


def _recent_sends(
    customer_ids: set[int], now: datetime, batch_ids: set[int]
) -> dict[int, list[datetime]]:
    """Each customer's marketing sends in the last 7 days, oldest first. Messages whose
    fate is open ("sending" outside this batch, "reconcile") count as sent: the customer
    may well have them."""
    sends: dict[int, list[datetime]] = {}
    if not customer_ids:
        return sends
    when = sa.func.coalesce(OutboxMessage.sent_at, OutboxMessage.claimed_at)
    rows = db.session.execute(
        sa.select(OutboxMessage.customer_id, when)
        .where(
            _ids_in(OutboxMessage.customer_id, customer_ids),
            OutboxMessage.purpose == MessagePurpose.MARKETING,
            OutboxMessage.status.in_(
                (OutboxStatus.SENT, OutboxStatus.SENDING, OutboxStatus.RECONCILE)
            ),
            sa.not_(_ids_in(OutboxMessage.id, batch_ids)),
            when > now - sms_rules.WEEK,
        )
        .order_by(when)
    )
    for customer_id, sent_at in rows:
        sends.setdefault(customer_id, []).append(sent_at)
    return sends


class Senders:
    """The SMS provider and the mailer, each made when first needed."""

    def __init__(self, provider: SmsProvider | None = None, mailer: SmsProvider | None = None):
        self._sms, self._mail = provider, mailer

    def __call__(self, channel: str) -> SmsProvider:
        if channel == "email":
            if self._mail is None:
                from crm.providers.mail import mailer_for

                self._mail = mailer_for(current_app)
            return self._mail
        if self._sms is None:
            self._sms = provider_for(current_app)
        return self._sms


def dispatch(
    now: datetime | None = None,
    *,
    provider: SmsProvider | None = None,
    mailer: SmsProvider | None = None,
    batch: int | None = None,
    max_batches: int | None = None,
) -> DispatchSummary:
    """Send what is due, batch by batch, until nothing is left (or ``max_batches``).
    SMS go through ``provider``, staff e-mail through ``mailer`` (both from configuration
    unless given)."""
    now = now or utcnow()
    senders = Senders(provider, mailer)
    batch = batch or current_app.config["CRM_DISPATCH_BATCH"]
    summary = DispatchSummary()
    summary.reconciled = reconcile(now, senders)
    rounds = 0
    while max_batches is None or rounds < max_batches:
        messages = _claim(now, batch)
        if not messages:
            break
        rounds += 1
        _send_batch(messages, now, senders, summary)
    return summary


def _send_batch(
    messages: list[sa.Row], now: datetime, senders: Senders, summary: DispatchSummary
) -> None:
    marketing = {m.customer_id for m in messages if m.purpose == MessagePurpose.MARKETING}
    reachable = set(
        db.session.scalars(
            sa.select(Customer.id).where(
                _ids_in(Customer.id, marketing),
                Customer.sms_consent.is_(True),
                Customer.sms_opt_out_at.is_(None),
            )
        )
    )
    recent = _recent_sends(marketing, now, {m.id for m in messages})
    cap = sms_rules.weekly_cap()
    sent: list[dict] = []
    # Every other outcome: (id, status, not_before, error) for one executemany.
    settled: list[dict] = []
    done_experiences: list[int] = []
    skipped_experiences: list[int] = []

    def settle(message, status: OutboxStatus, error=None, not_before=None) -> None:
        settled.append(
            {
                "b_id": message.id,
                "b_status": status.value,
                "b_not_before": not_before or message.not_before,
                "b_error": error,
            }
        )

    for message in messages:
        if message.purpose == MessagePurpose.MARKETING:
            if message.customer_id not in reachable:
                settle(message, OutboxStatus.SKIPPED, "no marketing consent, or opted out")
                summary.skipped += 1
                if message.experience_id:
                    skipped_experiences.append(message.experience_id)
                continue
            window = recent.setdefault(message.customer_id, [])
            if len(window) >= cap:
                # Over the weekly cap: wait until the oldest send of the week drops out.
                later = sms_rules.next_window_start(window[-cap] + sms_rules.WEEK)
                settle(message, OutboxStatus.QUEUED, not_before=later)
                summary.deferred += 1
                continue
        provider = senders(message.channel)
        try:
            provider_id = provider.send(message.recipient, message.body, message.idempotency_key)
        except Exception as error:  # one failing recipient never stops the batch
            text = str(error)[:500]
            if not isinstance(error, ProviderError) or error.uncertain:
                # No clear answer: the provider may have it. It stays "sending", and
                # reconcile asks the provider before it is ever sent again; until then it
                # counts against the customer's cap.
                settle(message, OutboxStatus.SENDING, text)
                if message.purpose == MessagePurpose.MARKETING:
                    recent[message.customer_id].append(now)
                summary.uncertain += 1
            elif error.permanent or message.attempts >= MAX_ATTEMPTS:
                settle(message, OutboxStatus.FAILED, text)
                summary.failed += 1
            else:
                retry = now + RETRY_DELAY * message.attempts
                settle(message, OutboxStatus.QUEUED, text, not_before=retry)
                summary.deferred += 1
            continue
        if message.purpose == MessagePurpose.MARKETING:
            recent[message.customer_id].append(now)
        sent.append(
            {
                "b_id": message.id,
                "provider": provider.name,
                "provider_message_id": provider_id,
                "sent_at": now,
            }
        )
        if message.experience_id:
            done_experiences.append(message.experience_id)
    connection = db.session.connection()
    if sent:
        _record_sent(sent, now)
    if settled:
        connection.execute(
            OUTBOX.update()
            .where(OUTBOX.c.id == sa.bindparam("b_id"))
            .values(
                status=sa.bindparam("b_status"),
                not_before=sa.bindparam("b_not_before", type_=OUTBOX.c.not_before.type),
                error=sa.bindparam("b_error"),
            ),
            settled,
        )
    close_experiences(done_experiences, skipped_experiences, now)
    db.session.commit()
    summary.sent += len(sent)


def _ids_in(column: sa.ColumnElement, ids) -> sa.ColumnElement[bool]:
    """``column IN ids``; on PostgreSQL as ``= ANY(array)``, one parameter instead of
    thousands."""
    ids = list(ids)
    if db.engine.dialect.name == "postgresql":
        return column == sa.any_(sa.cast(sa.literal(ids, ARRAY(sa.Integer)), ARRAY(sa.Integer)))
    return column.in_(ids)


def _record_sent(sent: list[dict], now: datetime) -> None:
    """Mark messages sent with the provider's ids: one statement on PostgreSQL (from two
    arrays), an executemany on SQLite (where that is as quick)."""
    connection = db.session.connection()
    if db.engine.dialect.name != "postgresql":
        connection.execute(
            OUTBOX.update()
            .where(OUTBOX.c.id == sa.bindparam("b_id"))
            .values(
                status=OutboxStatus.SENT.value,
                provider=sa.bindparam("provider"),
                provider_message_id=sa.bindparam("provider_message_id"),
                sent_at=sa.bindparam("sent_at"),
                error=None,
            ),
            sent,
        )
        return
    by_provider: dict[str, list[dict]] = {}
    for row in sent:
        by_provider.setdefault(row["provider"], []).append(row)
    for provider, rows in by_provider.items():
        connection.execute(
            sa.text(
                "UPDATE outbox_message AS o SET status = 'sent', provider = :provider, "
                "provider_message_id = v.pid, sent_at = :sent_at, error = NULL "
                "FROM unnest(CAST(:ids AS integer[]), CAST(:pids AS varchar[])) AS v(id, pid) "
                "WHERE o.id = v.id"
            ),
            {
                "provider": provider,
                "sent_at": now,
                "ids": [r["b_id"] for r in rows],
                "pids": [r["provider_message_id"] for r in rows],
            },
        )


def close_experiences(done: list[int], skipped: list[int], now: datetime) -> None:
    """A sent SMS is its routine experience held; one that may not be sent is cancelled."""
    held_on = now.astimezone(business_zone()).date()
    if done:
        db.session.execute(
            sa.update(Experience)
            .where(_ids_in(Experience.id, done), Experience.status == ExperienceStatus.PLANNED)
            .values(
                status=ExperienceStatus.DONE,
                held_on=held_on,
                actual_cost=Experience.planned_cost,
                version=Experience.version + 1,
            )
            .execution_options(synchronize_session=False)
        )
    if skipped:
        db.session.execute(
            sa.update(Experience)
            .where(_ids_in(Experience.id, skipped), Experience.status == ExperienceStatus.PLANNED)
            .values(status=ExperienceStatus.CANCELLED, version=Experience.version + 1)
            .execution_options(synchronize_session=False)
        )


def reconcile(now: datetime, senders: Senders) -> Counter:
    """Settle messages left in "sending" by a dispatcher that died: ask the provider."""
    stale = now - timedelta(seconds=current_app.config["CRM_SENDING_STALE_SECONDS"])
    outcome: Counter = Counter()
    messages = list(
        db.session.scalars(
            sa.select(OutboxMessage).where(
                OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_at <= stale
            )
        )
    )
    done: list[int] = []
    for message in messages:
        provider = senders(message.channel)
        try:
            delivery = provider.lookup(message.idempotency_key, message.recipient)
        except Exception as error:  # a provider that cannot answer now: ask again next time
            message.error = f"lookup failed: {error}"[:500]
            outcome["lookup_failed"] += 1
            continue
        if delivery.result == LookupResult.SENT:
            message.status = OutboxStatus.SENT
            message.provider = provider.name
            message.provider_message_id = delivery.provider_message_id
            message.sent_at = message.claimed_at
            if message.experience_id:
                done.append(message.experience_id)
        elif delivery.result == LookupResult.NOT_SENT:
            # The provider never had it: safe to send again, up to the attempt limit; a
            # message that keeps dying with its dispatcher goes to a person instead.
            if message.attempts < MAX_ATTEMPTS:
                message.status = OutboxStatus.QUEUED
            else:
                message.status = OutboxStatus.RECONCILE
                message.error = f"not sent after {message.attempts} attempts"
        else:
            message.status = OutboxStatus.RECONCILE
        outcome[delivery.result.value] += 1
    if messages:
        close_experiences(done, [], now)
        db.session.commit()
    return outcome
