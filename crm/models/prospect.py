"""Prospect (潜在客户) aggregate: a person met before a dossier is opened (seed 004's Hunt)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.models.base import Base, UTCDateTime, utcnow
from crm.models.branch import Branch
from crm.models.customer import Customer
from crm.models.enums import Channel, ProspectStatus, enum_column
from crm.models.group_event import GroupEvent
from crm.models.staff import Staff


class Prospect(Base):
    __tablename__ = "prospect"
    __table_args__ = (
        # The list pages walk these newest first, filtered by owner or branch (as customers).
        sa.Index("ix_prospect_owner_id_id", "owner_id", "id"),
        sa.Index("ix_prospect_branch_id_id", "branch_id", "id"),
        # A discarded prospect always says why.
        sa.CheckConstraint(
            "status <> 'discarded' OR discard_reason IS NOT NULL", name="discarded_with_reason"
        ),
        sa.CheckConstraint(
            "(status = 'converted') = (customer_id IS NOT NULL)", name="converted_with_dossier"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    # E.164, unique among prospects; a customer's number is refused too (by the service).
    phone: Mapped[str] = mapped_column(sa.String(20), unique=True)
    phone_last4: Mapped[str] = mapped_column(sa.String(4))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "channel"))
    # Where they came from: a group event (walk-in guests) or a customer who referred them.
    group_event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("group_event.id"), index=True)
    referred_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customer.id"), index=True)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("staff.id"))
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("branch.id"))
    notes: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[ProspectStatus] = mapped_column(
        enum_column(ProspectStatus, "prospect_status"), default=ProspectStatus.NEW
    )
    discard_reason: Mapped[str | None] = mapped_column(sa.String(500))
    # The dossier opened from it; its history then reads on that dossier.
    customer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customer.id"), unique=True)
    converted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    owner: Mapped[Staff] = relationship()
    branch: Mapped[Branch] = relationship()
    group_event: Mapped[GroupEvent | None] = relationship()
    referred_by: Mapped[Customer | None] = relationship(foreign_keys=[referred_by_id])
    customer: Mapped[Customer | None] = relationship(foreign_keys=[customer_id])

    # Two people moving one prospect: the second write fails instead of overwriting.
    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Prospect {self.id} {self.name} {self.status}>"
