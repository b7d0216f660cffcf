"""Quadrant-change events: the one source of truth for how customers moved between tiers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.models.base import Base, Money, UTCDateTime, utcnow
from crm.models.customer import Customer
from crm.models.enums import MoveCause, Quadrant, enum_column
from crm.models.staff import Staff


class QuadrantEvent(Base):
    __tablename__ = "quadrant_event"
    __table_args__ = (
        # "Quadrant as of D" reads the latest event per customer at or before D.
        sa.Index("ix_quadrant_event_customer_id_at", "customer_id", "at"),
        # By date, with the customer: a branch's dashboard checks the days not yet stored
        # against its customers from this index alone (migration 0024).
        sa.Index("ix_quadrant_event_at_customer_id", "at", "customer_id"),
        # The dashboard's as-of figures read every event of a branch's customers in customer
        # and time order with what each moved and held: this index alone, neither table nor
        # sort (crm.services.management.dashboard, migration 0018).
        sa.Index(
            "ix_quadrant_event_customer_id_at_id_moves",
            "customer_id",
            "at",
            "id",
            "from_quadrant",
            "to_quadrant",
            "liquid_assets",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customer.id", ondelete="CASCADE"))
    # None for a customer's first placement.
    from_quadrant: Mapped[Quadrant | None] = mapped_column(enum_column(Quadrant, "from_quadrant"))
    to_quadrant: Mapped[Quadrant] = mapped_column(enum_column(Quadrant, "to_quadrant"))
    # Both values and both thresholds at the time, so a move explains itself later.
    liquid_assets: Mapped[Decimal] = mapped_column(Money)
    willingness: Mapped[int] = mapped_column(sa.Integer)
    capability_threshold: Mapped[Decimal] = mapped_column(Money)
    willingness_threshold: Mapped[int] = mapped_column(sa.Integer)
    cause: Mapped[MoveCause] = mapped_column(enum_column(MoveCause, "move_cause"))
    # The experience behind the move, when there is one.
    experience_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("experience.id", ondelete="SET NULL"), index=True
    )
    note: Mapped[str | None] = mapped_column(sa.String(500))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[Staff | None] = relationship()
    experience: Mapped[Experience | None] = relationship()  # noqa: F821
    customer: Mapped[Customer] = relationship()
