"""Churn risk history (流失风险记录): a customer's score on each day it changed.

The customer row holds the current score; this table keeps one row per customer per day on
which the nightly scoring found a different score, so a rise ("became high risk since the last
digest") and a trend can be read back.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.models.base import Base, UTCDateTime, utcnow
from crm.models.enums import ChurnLevel, enum_column


class ChurnScoreDay(Base):
    __tablename__ = "churn_score_day"
    __table_args__ = (
        # One row per customer per day: a second run the same day rewrites it.
        sa.UniqueConstraint("customer_id", "scored_on", name="uq_churn_score_day_customer_day"),
        # "Who became high risk since D" reads the days after D.
        sa.Index("ix_churn_score_day_scored_on_level", "scored_on", "level"),
        sa.CheckConstraint("score BETWEEN 0 AND 100", name="score_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customer.id", ondelete="CASCADE"))
    scored_on: Mapped[date] = mapped_column(sa.Date)
    score: Mapped[int] = mapped_column(sa.SmallInteger)
    level: Mapped[ChurnLevel] = mapped_column(enum_column(ChurnLevel, "level"))
    # The level the customer had before this day's score (None for a first score).
    previous_level: Mapped[ChurnLevel | None] = mapped_column(
        enum_column(ChurnLevel, "previous_level")
    )
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<ChurnScoreDay customer {self.customer_id} {self.scored_on} {self.score}>"
