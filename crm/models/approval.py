"""Approval requests (审批申请): a plan the rules refused, waiting for a branch manager."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.models.base import Base, Money, UTCDateTime, utcnow
from crm.models.customer import Customer
from crm.models.enums import Touchpoint, enum_column
from crm.models.staff import Staff


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"


class ApprovalRequest(Base):
    __tablename__ = "approval_request"
    __table_args__ = (
        sa.CheckConstraint("planned_cost >= 0", name="planned_cost_not_negative"),
        # A branch's waiting requests, oldest first: /approvals, the today page, the digest.
        sa.Index("ix_approval_request_branch_id_status_id", "branch_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customer.id", ondelete="CASCADE"), index=True
    )
    # The customer's branch when asked: whose managers decide.
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("branch.id"))
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("staff.id"))
    # The plan as the staff member entered it.
    category: Mapped[Touchpoint] = mapped_column(enum_column(Touchpoint, "category"))
    due_on: Mapped[date] = mapped_column(sa.Date)
    planned_cost: Mapped[Decimal] = mapped_column(Money)
    notes: Mapped[str | None] = mapped_column(sa.Text)
    reason: Mapped[str] = mapped_column(sa.String(500))
    # The rules that refused it ("category", "planned_cost", comma-separated): approving
    # lets exactly these through for this one experience, no other.
    refused_for: Mapped[str] = mapped_column(sa.String(40))
    status: Mapped[ApprovalStatus] = mapped_column(
        enum_column(ApprovalStatus, "approval_status"), default=ApprovalStatus.PENDING
    )
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str | None] = mapped_column(sa.String(500))
    # The experience planned on approval.
    experience_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("experience.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    customer: Mapped[Customer] = relationship()
    requested_by: Mapped[Staff] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[Staff | None] = relationship(foreign_keys=[decided_by_id])

    @property
    def refused_rules(self) -> set[str]:
        return set(filter(None, self.refused_for.split(",")))

    def __repr__(self) -> str:
        return f"<ApprovalRequest {self.id} {self.status} customer {self.customer_id}>"
