"""Monthly reports (月度报告) made for a branch and kept for its managers to open."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.models.base import Base, UTCDateTime, utcnow
from crm.models.branch import Branch
from crm.models.enums import enum_column


class ReportKind(StrEnum):
    """The analytics notebooks a month's reports are made from (analytics/*.ipynb)."""

    MIGRATION = "migration"
    EFFECTIVENESS = "effectiveness"
    FOLLOWUP = "followup"


class ReportStatus(StrEnum):
    PENDING = "pending"  # to be made (first time, or again after its file went missing)
    READY = "ready"
    FAILED = "failed"  # the last attempt failed; the next run tries again


class MonthlyReport(Base):
    """One report of one branch for one calendar month, in one language: where its file is
    kept (relative to the reports folder), and how making it went. One row per branch,
    month, kind and language, so a month's report is never made twice."""

    __tablename__ = "monthly_report"
    __table_args__ = (
        sa.UniqueConstraint(
            "branch_id", "month", "kind", "language", name="uq_monthly_report_branch_month"
        ),
        sa.Index("ix_monthly_report_month", "month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("branch.id", ondelete="CASCADE"))
    month: Mapped[date]  # its first day
    kind: Mapped[ReportKind] = mapped_column(enum_column(ReportKind, "report_kind"))
    language: Mapped[str] = mapped_column(sa.String(10))
    status: Mapped[ReportStatus] = mapped_column(
        enum_column(ReportStatus, "report_status"), default=ReportStatus.PENDING
    )
    file_path: Mapped[str | None] = mapped_column(sa.String(300))
    made_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(sa.String(500))
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    branch: Mapped[Branch] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<MonthlyReport {self.id} {self.branch_id} {self.month} {self.kind}>"
