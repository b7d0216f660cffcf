"""Dispatch (发送): the outbox's due rows are claimed and each is sent exactly once.

Dispatch claims due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two dispatchers never
claim the same row) and, in the same transaction, applies the rules (consent, opt-out, the
weekly cap, decided per customer under a lock: ``_lock_caps``); it commits the messages that
may go as "sending" *before* calling the provider, and records the provider's id after. A
crash leaves rows in "sending"; each dispatch first settles those (``reconcile``). Nothing is
re-sent blindly. One failing recipient never stops the batch.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from crm.extensions import db
from crm.models import Customer, OutboxMessage
from crm.models.base import utcnow
from crm.models.enums import MessagePurpose, OutboxStatus, RelationshipStatus
from crm.providers.base import ProviderError, SmsProvider
from crm.services.outreach import sms_rules
from crm.services.outreach.reconcile import reconcile
from crm.services.outreach.sending import MAX_ATTEMPTS, Senders, close_experiences, ids_in

RETRY_DELAY = timedelta(minutes=10)
# The first key of the advisory locks that serialise the weekly cap's decision per customer
# (PostgreSQL's two-key form, the second key being the customer's id); nothing else uses it.
CAP_LOCK_KIND = 0x534D53  # "SMS"


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


def _take(now: datetime, batch: int) -> list[sa.Row]:
    """Up to ``batch`` due messages, made "sending" in this transaction (not yet committed)
    by one UPDATE … RETURNING; on PostgreSQL the rows are picked ``FOR UPDATE SKIP LOCKED``,
    so two dispatchers never take the same message."""
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
            return []
        picked = ids_in(OUTBOX.c.id, ids)
    else:
        picked = OUTBOX.c.id.in_(pick.scalar_subquery())
    rows = db.session.execute(
        OUTBOX.update()
        .where(picked, due)
        .values(status=OutboxStatus.SENDING.value, claimed_at=now, attempts=OUTBOX.c.attempts + 1)
        .returning(*CLAIMED_COLUMNS)
    ).all()
    return sorted(rows, key=lambda row: row.id)


def _claim(
    now: datetime, batch: int, summary: DispatchSummary | None = None
) -> list[sa.Row] | None:
    """Take up to ``batch`` due messages, apply the marketing rules to them and commit, in one
    transaction: those that may go stay "sending" and are returned, the others are skipped
    or queued for after the weekly cap. None once nothing is due.

    Deciding in the claim's transaction makes "sending" mean "going": a message the cap holds
    back is never seen in flight by another dispatcher, so the cap counts exactly what the
    customer gets (and what may yet reach them), never a message that will not go."""
    messages = _take(now, batch)
    if not messages:
        db.session.commit()
        return None
    rules = _Rules(messages, now, summary or DispatchSummary())
    going = [m for m in messages if not rules.held_back(m)]
    rules.write()
    db.session.commit()
    return going


def _lock_caps(customer_ids: set[int]) -> None:
    """Serialise the cap decision per customer until this transaction ends (PostgreSQL).

    Two dispatchers may each hold some of one customer's due messages (SKIP LOCKED splits
    them anywhere). Each takes the customer's advisory lock before counting, so the second
    counts what the first committed as going (at READ COMMITTED each statement sees what was
    committed before it began): together they send up to the cap and no more. The locks
    are taken in customer order, in one statement, so two dispatchers never wait on each
    other in a circle; they are advisory, so the web's own transactions on customers and
    outbox rows (an opt-out) never wait on them. A batch holds one per customer in it (at
    most ``CRM_DISPATCH_BATCH``, 1,000), well within the server's lock table
    (``max_locks_per_transaction`` × connections: 6,400 by default). SQLite needs none: the
    claim's UPDATE holds its only writer's lock until the decisions are committed.
    """
    if not customer_ids or db.engine.dialect.name != "postgresql":
        return
    db.session.execute(
        sa.text(
            "SELECT count(pg_advisory_xact_lock(:kind, c)) "
            "FROM unnest(CAST(:ids AS integer[])) AS c"
        ),
        {"kind": CAP_LOCK_KIND, "ids": sorted(customer_ids)},
    )


def _recent_sends(
    customer_ids: set[int], now: datetime, batch_ids: set[int]
) -> dict[int, list[datetime]]:
    """Each customer's marketing sends in the last 7 days, oldest first. Messages whose
    fate is open ("sending" outside this batch: decided to go; "reconcile") count as sent:
    the customer may well have them."""
    sends: dict[int, list[datetime]] = {}
    if not customer_ids:
        return sends
    when = sa.func.coalesce(OutboxMessage.sent_at, OutboxMessage.claimed_at)
    rows = db.session.execute(
        sa.select(OutboxMessage.customer_id, when)
        .where(
            ids_in(OutboxMessage.customer_id, customer_ids),
            OutboxMessage.purpose == MessagePurpose.MARKETING,
            OutboxMessage.status.in_(
                (OutboxStatus.SENT, OutboxStatus.SENDING, OutboxStatus.RECONCILE)
            ),
            sa.not_(ids_in(OutboxMessage.id, batch_ids)),
            when > now - sms_rules.WEEK,
        )
        .order_by(when)
    )
    for customer_id, sent_at in rows:
        sends.setdefault(customer_id, []).append(sent_at)
    return sends


def _reachable(customer_ids: set[int]) -> set[int]:
    """The customers among ``customer_ids`` who consent to marketing SMS, have not opted out
    and are not lost (流失)."""
    return set(
        db.session.scalars(
            sa.select(Customer.id).where(
                ids_in(Customer.id, customer_ids),
                Customer.sms_consent.is_(True),
                Customer.sms_opt_out_at.is_(None),
                Customer.relationship_status != RelationshipStatus.LOST,
            )
        )
    )


def _reconsider(customer_ids: set[int], now: datetime) -> None:
    """A marketing message that failed for good gives its place under the cap back: the
    customers' messages queued for after the cap (claimed before, no error, not yet due)
    are due again, to be decided anew."""
    db.session.execute(
        OUTBOX.update()
        .where(
            ids_in(OUTBOX.c.customer_id, customer_ids),
            OUTBOX.c.purpose == MessagePurpose.MARKETING.value,
            OUTBOX.c.status == OutboxStatus.QUEUED.value,
            OUTBOX.c.claimed_at.is_not(None),
            OUTBOX.c.error.is_(None),
            OUTBOX.c.not_before > now,
        )
        .values(not_before=now)
    )


def _settle_all(settled: list[dict]) -> None:
    """Give messages their outcome, (id, status, not_before, error) each, in one executemany."""
    if settled:
        db.session.connection().execute(
            OUTBOX.update()
            .where(OUTBOX.c.id == sa.bindparam("b_id"))
            .values(
                status=sa.bindparam("b_status"),
                not_before=sa.bindparam("b_not_before", type_=OUTBOX.c.not_before.type),
                error=sa.bindparam("b_error"),
            ),
            settled,
        )


def _outcome(message, status: OutboxStatus, error=None, not_before=None) -> dict:
    return {
        "b_id": message.id,
        "b_status": status.value,
        "b_not_before": not_before or message.not_before,
        "b_error": error,
    }


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
        messages = _claim(now, batch, summary)
        if messages is None:
            break
        rounds += 1
        if messages:
            _send_batch(messages, now, senders, summary)
    return summary


def _send_batch(
    messages: list[sa.Row], now: datetime, senders: Senders, summary: DispatchSummary
) -> None:
    batch = _Batch(now, summary)
    for message in messages:
        batch.send(message, senders(message.channel))
    batch.write()


class _Rules:
    """The marketing rules (consent, opt-out, weekly cap) applied to one claimed batch inside
    the claim's transaction, and the messages they hold back."""

    def __init__(self, messages: list[sa.Row], now: datetime, summary: DispatchSummary):
        marketing = {m.customer_id for m in messages if m.purpose == MessagePurpose.MARKETING}
        self.now = now
        self.summary = summary
        _lock_caps(marketing)
        self.reachable = _reachable(marketing)
        self.recent = _recent_sends(marketing, now, {m.id for m in messages})
        self.cap = sms_rules.weekly_cap()
        self.settled: list[dict] = []
        self.skipped_experiences: list[int] = []

    def held_back(self, message) -> bool:
        """Whether the marketing rules keep this message from going now (then it is settled:
        skipped for want of consent, or queued again for after the weekly cap)."""
        if message.purpose != MessagePurpose.MARKETING:
            return False
        if message.customer_id not in self.reachable:
            self.settled.append(
                _outcome(message, OutboxStatus.SKIPPED, "no marketing consent, or opted out")
            )
            self.summary.skipped += 1
            if message.experience_id:
                self.skipped_experiences.append(message.experience_id)
            return True
        window = self.recent.setdefault(message.customer_id, [])
        if len(window) >= self.cap:
            # Over the weekly cap: wait until the oldest send of the week drops out.
            later = sms_rules.next_window_start(window[-self.cap] + sms_rules.WEEK)
            self.settled.append(_outcome(message, OutboxStatus.QUEUED, not_before=later))
            self.summary.deferred += 1
            return True
        window.append(self.now)  # it goes: from now on it counts
        return False

    def write(self) -> None:
        _settle_all(self.settled)
        close_experiences([], self.skipped_experiences, self.now)


class _Batch:
    """The messages of one claim that may go: sent one by one, what became of each written
    back in a few statements at the end."""

    def __init__(self, now: datetime, summary: DispatchSummary):
        self.now = now
        self.summary = summary
        self.sent: list[dict] = []
        # Every other outcome: (id, status, not_before, error) for one executemany.
        self.settled: list[dict] = []
        self.done_experiences: list[int] = []
        # Customers whose marketing message failed for good: a place under the cap is free.
        self.freed: set[int] = set()

    def send(self, message, provider: SmsProvider) -> None:
        try:
            provider_id = provider.send(message.recipient, message.body, message.idempotency_key)
        except Exception as error:  # one failing recipient never stops the batch
            self.failed(message, error)
            return
        self.sent.append(
            {
                "b_id": message.id,
                "provider": provider.name,
                "provider_message_id": provider_id,
                "sent_at": self.now,
            }
        )
        if message.experience_id:
            self.done_experiences.append(message.experience_id)

    def failed(self, message, error: Exception) -> None:
        text = str(error)[:500]
        if not isinstance(error, ProviderError) or error.uncertain:
            # No clear answer: the provider may have it. It stays "sending", and
            # reconcile asks the provider before it is ever sent again; until then it
            # counts against the customer's cap.
            self.settled.append(_outcome(message, OutboxStatus.SENDING, text))
            self.summary.uncertain += 1
        elif error.permanent or message.attempts >= MAX_ATTEMPTS:
            self.settled.append(_outcome(message, OutboxStatus.FAILED, text))
            self.summary.failed += 1
            if message.purpose == MessagePurpose.MARKETING:
                self.freed.add(message.customer_id)
        else:
            retry = self.now + RETRY_DELAY * message.attempts
            self.settled.append(_outcome(message, OutboxStatus.QUEUED, text, not_before=retry))
            self.summary.deferred += 1

    def write(self) -> None:
        """Record every outcome and close the experiences, in one commit."""
        if self.sent:
            _record_sent(self.sent, self.now)
        _settle_all(self.settled)
        if self.freed:
            _reconsider(self.freed, self.now)
        close_experiences(self.done_experiences, [], self.now)
        db.session.commit()
        self.summary.sent += len(self.sent)


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
