"""Group events (一般活动, 高级活动): one date, one place, a capacity and a total cost shared
equally by the customers who attend."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.models.base import Base, Money, UTCDateTime, utcnow
from crm.models.branch import Branch
from crm.models.enums import EventType, Touchpoint, enum_column
from crm.models.staff import Staff


class GroupEvent(Base):
    __tablename__ = "group_event"
    __table_args__ = (
        sa.CheckConstraint("capacity >= 1", name="capacity_positive"),
        sa.CheckConstraint("total_cost >= 0", name="total_cost_not_negative"),
        sa.CheckConstraint("category IN ('event', 'premium_event')", name="group_category"),
        sa.Index("ix_group_event_branch_id_held_on", "branch_id", "held_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[Touchpoint] = mapped_column(enum_column(Touchpoint, "category"))
    # What kind of gathering it is (微沙龙, 答谢会, ...): which asset tiers it suits.
    event_type: Mapped[EventType] = mapped_column(
        enum_column(EventType, "event_type"), default=EventType.SALON, server_default="salon"
    )
    title: Mapped[str] = mapped_column(sa.String(120))
    held_on: Mapped[date] = mapped_column(sa.Date)
    place: Mapped[str] = mapped_column(sa.String(200))
    capacity: Mapped[int] = mapped_column(sa.Integer)
    total_cost: Mapped[Decimal] = mapped_column(Money)
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("branch.id"))
    organiser_id: Mapped[int] = mapped_column(sa.ForeignKey("staff.id"))
    notes: Mapped[str | None] = mapped_column(sa.Text)
    # Set once, when attendance is recorded; the costs are then shared out.
    attendance_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    branch: Mapped[Branch] = relationship()
    organiser: Mapped[Staff] = relationship()

    # Every invitation touches the event, so two people filling the last seat collide.
    __mapper_args__ = {"version_id_col": version}
