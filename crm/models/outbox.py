"""The outbox: every outgoing message is a row first, with a key that makes it unique.

A customer never receives one contact twice: the idempotency key (one per planned contact)
is unique, dispatch commits "sending" before it calls the provider, and a message found in
"sending" after a crash is reconciled with the provider, never blindly sent again.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.models.base import Base, UTCDateTime, utcnow
from crm.models.customer import Customer
from crm.models.enums import MessagePurpose, OutboxStatus, enum_column


class OutboxMessage(Base):
    __tablename__ = "outbox_message"
    __table_args__ = (
        # Dispatch claims the oldest due queued messages.
        sa.Index("ix_outbox_message_status_not_before", "status", "not_before", "id"),
        # Caps count a customer's recent sends.
        sa.Index("ix_outbox_message_customer_id_sent_at", "customer_id", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    purpose: Mapped[MessagePurpose] = mapped_column(enum_column(MessagePurpose, "purpose"))
    channel: Mapped[str] = mapped_column(sa.String(10), default="sms")  # sms or email
    customer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("customer.id", ondelete="CASCADE")
    )
    staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff.id"))
    experience_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("experience.id", ondelete="SET NULL"), index=True
    )
    recipient: Mapped[str] = mapped_column(sa.String(120))  # E.164 phone or e-mail address
    template_key: Mapped[str | None] = mapped_column(sa.String(40))
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[OutboxStatus] = mapped_column(
        enum_column(OutboxStatus, "outbox_status"), default=OutboxStatus.QUEUED
    )
    not_before: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    provider: Mapped[str | None] = mapped_column(sa.String(20))
    provider_message_id: Mapped[str | None] = mapped_column(sa.String(120))
    error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    customer: Mapped[Customer | None] = relationship()
