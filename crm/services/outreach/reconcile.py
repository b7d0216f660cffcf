"""Messages left in "sending" by a dispatcher that died: ask the provider, never re-send blindly.

Dispatch commits a row as "sending" before it calls the provider, so a crash (or a provider
that gave no answer) leaves the row there. Once it has sat too long, the provider is asked
about it by its idempotency key: sent → recorded as sent, never received → queued again (up
to the attempt limit), unknown → marked for reconciliation by a person.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from crm.extensions import db
from crm.models import OutboxMessage
from crm.models.enums import OutboxStatus
from crm.providers.base import Delivery, LookupResult
from crm.services.outreach.sending import MAX_ATTEMPTS, Senders, close_experiences


def _stale_sending(now: datetime) -> list[OutboxMessage]:
    """The messages in "sending" for longer than a live dispatcher would hold them."""
    stale = now - timedelta(seconds=current_app.config["CRM_SENDING_STALE_SECONDS"])
    return list(
        db.session.scalars(
            sa.select(OutboxMessage).where(
                OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_at <= stale
            )
        )
    )


def _settle(message: OutboxMessage, delivery: Delivery, provider_name: str) -> None:
    """Give the message the status the provider's answer calls for."""
    if delivery.result == LookupResult.SENT:
        message.status = OutboxStatus.SENT
        message.provider = provider_name
        message.provider_message_id = delivery.provider_message_id
        message.sent_at = message.claimed_at
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


def reconcile(now: datetime, senders: Senders) -> Counter:
    """Settle messages left in "sending" by a dispatcher that died: ask the provider."""
    outcome: Counter = Counter()
    messages = _stale_sending(now)
    done: list[int] = []
    for message in messages:
        provider = senders(message.channel)
        try:
            delivery = provider.lookup(message.idempotency_key, message.recipient)
        except Exception as error:  # a provider that cannot answer now: ask again next time
            message.error = f"lookup failed: {error}"[:500]
            outcome["lookup_failed"] += 1
            continue
        _settle(message, delivery, provider.name)
        if delivery.result == LookupResult.SENT and message.experience_id:
            done.append(message.experience_id)
        outcome[delivery.result.value] += 1
    if messages:
        close_experiences(done, [], now)
        db.session.commit()
    return outcome
