"""Complaints (客户投诉): seed 003's 客户投诉情况统计表, with a 7-day answer due."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.models.base import Base, UTCDateTime, utcnow
from crm.models.customer import Customer
from crm.models.staff import Staff


class Complaint(Base):
    __tablename__ = "complaint"
    __table_args__ = (
        sa.CheckConstraint(
            "answered_at IS NULL OR answered_at >= opened_at", name="answered_after_opened"
        ),
        # Open complaints by due time: the digest and the manager page read these.
        sa.Index("ix_complaint_answered_at_due_at", "answered_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customer.id", ondelete="CASCADE"), index=True
    )
    point: Mapped[str] = mapped_column(sa.Text)  # 投诉要点
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A definite answer is due by then (opened + the SLA, 7 days by default).
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    opened_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff.id"))
    handling_opinion: Mapped[str | None] = mapped_column(sa.Text)  # 处理意见
    non_routine_surrender: Mapped[bool | None] = mapped_column(sa.Boolean)  # 是否非常规退保
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff.id"))
    satisfied: Mapped[bool | None] = mapped_column(sa.Boolean)  # 是否满意
    version: Mapped[int] = mapped_column(sa.Integer, default=1)

    customer: Mapped[Customer] = relationship()
    opened_by: Mapped[Staff | None] = relationship(foreign_keys=[opened_by_id])
    answered_by: Mapped[Staff | None] = relationship(foreign_keys=[answered_by_id])

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Complaint {self.id} customer {self.customer_id}>"
