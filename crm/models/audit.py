"""Audit log: one row per changed field, so every change is attributable."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.models.base import Base, UTCDateTime, utcnow
from crm.models.staff import Staff


class AuditLog(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        sa.Index("ix_audit_log_customer_id_id", "customer_id", "id"),
        sa.Index("ix_audit_log_entity_entity_id", "entity", "entity_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # None when the change came from the system (CLI without a user, demo data).
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff.id"))
    entity: Mapped[str] = mapped_column(sa.String(30))
    entity_id: Mapped[int] = mapped_column(sa.Integer)
    # The dossier the change belongs to, so its history reads in one query.
    customer_id: Mapped[int | None] = mapped_column(sa.Integer)
    action: Mapped[str] = mapped_column(sa.String(10))  # create / update / delete
    field: Mapped[str | None] = mapped_column(sa.String(40))
    old_value: Mapped[str | None] = mapped_column(sa.Text)
    new_value: Mapped[str | None] = mapped_column(sa.Text)
    # Why, where the rule asks for a reason (a willingness re-assessment, an approval).
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    # The entity's version after this change (for showing what a stale editor missed).
    version: Mapped[int | None] = mapped_column(sa.Integer)

    actor: Mapped[Staff | None] = relationship()

    @property
    def actor_name(self) -> str | None:
        """Who made the change (None: the system), as the history rows read it."""
        return self.actor.display_name if self.actor is not None else None
