"""Maturity call-backs (满期回访): one task per policy maturity, and what the call found.

The fields are those of seed 003's 有效回访统计表. The call itself is an experience (a
routine-service contact with a cost), linked here once recorded, so budgets, history and
analytics see it like any other.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.models.base import Base, UTCDateTime, utcnow
from crm.models.customer import Customer
from crm.models.enums import CallbackIntent, enum_column
from crm.models.experience import Experience
from crm.models.policy import Policy
from crm.models.product import Product
from crm.models.staff import Staff


class MaturityCallback(Base):
    __tablename__ = "maturity_callback"
    __table_args__ = (
        # The scan makes one task per policy maturity, however often it runs.
        sa.UniqueConstraint("policy_id", "maturity_date", name="uq_maturity_callback_policy"),
        # A staff member's open call-backs, most urgent first.
        sa.Index("ix_maturity_callback_owner_open", "owner_id", "recorded_at", "maturity_date"),
        # By maturity, with the customer: a branch's year of call-backs is found without
        # reading the other branches' rows (migration 0024).
        sa.Index("ix_maturity_callback_maturity_date_customer_id", "maturity_date", "customer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(sa.ForeignKey("policy.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customer.id", ondelete="CASCADE"), index=True
    )
    # The customer's owner when the task was made; the list follows the customer's owner.
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("staff.id"))
    maturity_date: Mapped[date] = mapped_column(sa.Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What the call found (empty until recorded).
    intent: Mapped[CallbackIntent | None] = mapped_column(enum_column(CallbackIntent, "intent"))
    maturity_note: Mapped[str | None] = mapped_column(sa.Text)  # 满期情况
    conversion_note: Mapped[str | None] = mapped_column(sa.Text)  # 转化情况
    remarks: Mapped[str | None] = mapped_column(sa.Text)  # 备注
    # A product suggested on the call, within the customer's risk level.
    product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("product.id"))
    experience_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("experience.id", ondelete="SET NULL")
    )
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_on: Mapped[date | None] = mapped_column(sa.Date)  # local day, for the daily quota
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff.id"))
    version: Mapped[int] = mapped_column(sa.Integer, default=1)

    policy: Mapped[Policy] = relationship()
    customer: Mapped[Customer] = relationship()
    product: Mapped[Product | None] = relationship()
    experience: Mapped[Experience | None] = relationship()
    recorded_by: Mapped[Staff | None] = relationship(foreign_keys=[recorded_by_id])

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<MaturityCallback {self.id} policy {self.policy_id} {self.maturity_date}>"
