"""Long work (后台任务) that a web request queues and the scheduler process runs in chunks."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.models.base import Base, UTCDateTime, utcnow
from crm.models.enums import enum_column


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


# The value of ``BackgroundJob.lane`` while a job is queued or running.
BUSY = "busy"


class BackgroundJob(Base):
    """One piece of long work: what to do (``kind`` and ``params``), how far it has got, and
    how it ended (``result`` for the page to word, or ``failure``)."""

    __tablename__ = "background_job"
    __table_args__ = (sa.Index("ix_background_job_kind_id", "kind", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    state: Mapped[JobState] = mapped_column(
        enum_column(JobState, "job_state"), default=JobState.QUEUED
    )
    # BUSY while queued or running, NULL after. Unique (NULLs never clash, on either database),
    # so that the database itself keeps a second job from being queued beside one under way.
    lane: Mapped[str | None] = mapped_column(sa.String(10), unique=True)
    done: Mapped[int] = mapped_column(default=0, server_default="0")
    total: Mapped[int | None]
    result: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    failure: Mapped[str | None] = mapped_column(sa.String(500))
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff.id"))
    holder: Mapped[str | None] = mapped_column(sa.String(120))
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def under_way(self) -> bool:
        return self.state in (JobState.QUEUED, JobState.RUNNING)

    def __repr__(self) -> str:
        return f"<BackgroundJob {self.id} {self.kind} {self.state}>"
