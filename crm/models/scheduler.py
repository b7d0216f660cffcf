"""What the scheduler process keeps in the app's database besides APScheduler's job store:
the lease that makes one process the active scheduler, and a log of job runs."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.models.base import Base, UTCDateTime, utcnow


class SchedulerLease(Base):
    """One row per scheduler name; the holder renews it, a standby takes it when it lapses."""

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(sa.String(120))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class JobRun(Base):
    __tablename__ = "job_run"
    __table_args__ = (sa.Index("ix_job_run_job_id_started_at", "job_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(sa.String(60))
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ok: Mapped[bool | None] = mapped_column(sa.Boolean)
    summary: Mapped[str | None] = mapped_column(sa.String(500))
    holder: Mapped[str | None] = mapped_column(sa.String(120))


# APScheduler's SQLAlchemy job store, declared here (as APScheduler 3 defines it) so that the
# table is made by a migration like every other; the scheduler then finds it in place.
apscheduler_jobs = sa.Table(
    "apscheduler_jobs",
    Base.metadata,
    sa.Column("id", sa.Unicode(191), primary_key=True),
    sa.Column("next_run_time", sa.Float(25), index=True),
    sa.Column("job_state", sa.LargeBinary, nullable=False),
)
