"""The bank's effect history (体验效果历史): per quadrant and touchpoint category, how many
experiences were held over the year and how many the customer answered positively.

Worked out by the nightly job ``effect_history`` (and ``flask crm effect-history``) from every
experience of the year, so that a page suggesting the next experience reads a couple of dozen
rows instead of aggregating the year itself (``crm.services.advice.effects``). One row per
quadrant and category, rewritten whole each night.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.models.base import Base, UTCDateTime, utcnow
from crm.models.enums import Quadrant, Touchpoint, enum_column


class EffectHistory(Base):
    __tablename__ = "effect_history"
    __table_args__ = (
        sa.CheckConstraint("positive BETWEEN 0 AND held", name="positive_within_held"),
    )

    quadrant: Mapped[Quadrant] = mapped_column(enum_column(Quadrant, "quadrant"), primary_key=True)
    category: Mapped[Touchpoint] = mapped_column(
        enum_column(Touchpoint, "category"), primary_key=True
    )
    held: Mapped[int] = mapped_column(sa.Integer)
    positive: Mapped[int] = mapped_column(sa.Integer)
    # The business day the year ends on (the year before it is counted).
    as_of: Mapped[date] = mapped_column(sa.Date)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<EffectHistory {self.quadrant} {self.category} {self.positive}/{self.held}>"
