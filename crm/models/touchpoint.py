"""The experience matrix (客户体验): touchpoint categories and the rule of each quadrant for each.

Both are data, seeded from seed 004 by a migration and edited by admins (every edit audited).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.models.base import Base, Money, UTCDateTime, utcnow
from crm.models.enums import CostLevel, Mark, Quadrant, Touchpoint, enum_column


class TouchpointCategory(Base):
    __tablename__ = "touchpoint_category"
    __table_args__ = (sa.CheckConstraint("unit_cost >= 0", name="unit_cost_not_negative"),)

    key: Mapped[Touchpoint] = mapped_column(enum_column(Touchpoint, "key"), primary_key=True)
    position: Mapped[int] = mapped_column(sa.Integer)
    cost_level: Mapped[CostLevel] = mapped_column(enum_column(CostLevel, "cost_level"))
    # The cost of one experience when nobody says otherwise (a group event's share is
    # its total cost divided among the attendees instead).
    unit_cost: Mapped[Decimal] = mapped_column(Money)
    examples_zh: Mapped[str] = mapped_column(sa.String(300))
    examples_en: Mapped[str] = mapped_column(sa.String(300))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class TouchpointRule(Base):
    """One cell of the matrix: the mark, and for planned marks the cadence in days."""

    __tablename__ = "touchpoint_rule"
    __table_args__ = (
        sa.CheckConstraint(
            "interval_days IS NULL OR interval_days BETWEEN 1 AND 366", name="interval_range"
        ),
    )

    quadrant: Mapped[Quadrant] = mapped_column(enum_column(Quadrant, "quadrant"), primary_key=True)
    category: Mapped[Touchpoint] = mapped_column(
        enum_column(Touchpoint, "category"),
        sa.ForeignKey("touchpoint_category.key"),
        primary_key=True,
    )
    mark: Mapped[Mark] = mapped_column(enum_column(Mark, "mark"))
    # One experience every this many days, for strategic and should marks; None: not planned.
    interval_days: Mapped[int | None] = mapped_column(sa.Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
