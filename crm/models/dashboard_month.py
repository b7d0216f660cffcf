"""The dashboard's book stored month by month (主管看板月度数据), kept by the nightly job
``dashboard_months`` (and ``flask crm dashboard-months``).

A row is one group of a branch's quadrant events in one calendar month of the business's
zone: the quadrant each moved from and to, the quadrant the customer's previous event had
placed them in (``left``), how many such events, the liquid assets they recorded and those of
the events before them. Summed up to a month's end, these are the dashboard's as-of figures
(``crm.services.management.dashboard``). ``DashboardBuild`` says what the rows cover: every
event dated before ``built_at`` that existed when the job read them (ids up to ``event_mark``),
with customers in the branches the audit trail gave them up to ``audit_mark``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.models.base import Base, Money, UTCDateTime, utcnow
from crm.models.enums import Quadrant, enum_column


class DashboardMonth(Base):
    __tablename__ = "dashboard_month"
    __table_args__ = (sa.Index("ix_dashboard_month_branch_id_month", "branch_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign key: a branch's history is history even if the branch row goes.
    branch_id: Mapped[int] = mapped_column(sa.Integer)
    # The month's first day.
    month: Mapped[date] = mapped_column(sa.Date)
    from_quadrant: Mapped[Quadrant | None] = mapped_column(enum_column(Quadrant, "from_quadrant"))
    to_quadrant: Mapped[Quadrant] = mapped_column(enum_column(Quadrant, "to_quadrant"))
    # Where the customer's previous event placed them; None for their first.
    left_quadrant: Mapped[Quadrant | None] = mapped_column(enum_column(Quadrant, "left_quadrant"))
    events: Mapped[int] = mapped_column(sa.Integer)
    placed_assets: Mapped[Decimal] = mapped_column(Money)
    taken_assets: Mapped[Decimal] = mapped_column(Money)

    def __repr__(self) -> str:
        return f"<DashboardMonth {self.branch_id} {self.month} {self.events}>"


class DashboardBuild(Base):
    """What the stored months cover: one row, rewritten by each run of the job."""

    __tablename__ = "dashboard_build"

    id: Mapped[int] = mapped_column(primary_key=True)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime)
    event_mark: Mapped[int] = mapped_column(sa.Integer)
    audit_mark: Mapped[int] = mapped_column(sa.Integer)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<DashboardBuild {self.built_at} events≤{self.event_mark}>"
