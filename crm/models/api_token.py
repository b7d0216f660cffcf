"""API tokens: issued by an admin to one staff member, acting with that member's rights."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.models.base import Base, UTCDateTime, utcnow
from crm.models.staff import Staff


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(sa.ForeignKey("staff.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    # Only a SHA-256 of the token is kept; the token itself is shown once, when issued.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The first characters, so people can tell their tokens apart in the admin list.
    prefix: Mapped[str] = mapped_column(sa.String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff.id"))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff.id"))

    staff: Mapped[Staff] = relationship(foreign_keys=[staff_id])

    def __repr__(self) -> str:
        return f"<ApiToken {self.prefix}… staff {self.staff_id}>"
