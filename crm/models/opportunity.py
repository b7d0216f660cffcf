"""Opportunity (商机) aggregate: a sale being worked, from a lead to won (成交) or lost (未成交)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.models.base import Base, Money, UTCDateTime, utcnow
from crm.models.customer import Customer
from crm.models.enums import OpportunitySource, PaymentMode, SalesStage, enum_column
from crm.models.product import Product
from crm.models.staff import Staff


class Opportunity(Base):
    __tablename__ = "opportunity"
    __table_args__ = (
        sa.CheckConstraint("expected_premium > 0", name="expected_premium_positive"),
        sa.CheckConstraint(
            "expected_close_on >= opened_on", name="opportunity_closes_after_opening"
        ),
        # The dossier lists a customer's; a board totals a seller's or a branch's open ones by
        # stage and picks the soonest to close; the funnel reads those opened in a period.
        sa.Index("ix_opportunity_customer_stage", "customer_id", "stage"),
        # The premium at the end: a board's totals are read from the index alone.
        sa.Index(
            "ix_opportunity_owner_stage_close",
            "owner_id",
            "stage",
            "expected_close_on",
            "expected_premium",
        ),
        sa.Index(
            "ix_opportunity_branch_stage_close",
            "branch_id",
            "stage",
            "expected_close_on",
            "expected_premium",
        ),
        # Everything a branch's funnel groups and sums, so that a year of it is read from the
        # index alone (half the time of reading each row on SQLite).
        sa.Index(
            "ix_opportunity_branch_opened_on",
            "branch_id",
            "opened_on",
            "owner_id",
            "stage",
            "lost_from",
            "payment_mode",
            "expected_premium",
            "closed_on",
        ),
        sa.Index("ix_opportunity_opened_on", "opened_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customer.id", ondelete="CASCADE"))
    # Who sells it and the branch credited: the customer's relationship manager and branch
    # when it was opened. Boards and the funnel read a seller's pipeline by these, without
    # reading the customers (at a bank's size, the difference between 5 ms and 100 ms).
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("staff.id"))
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("branch.id"))
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"))
    expected_premium: Mapped[Decimal] = mapped_column(Money)
    payment_mode: Mapped[PaymentMode] = mapped_column(enum_column(PaymentMode, "payment_mode"))
    stage: Mapped[SalesStage] = mapped_column(
        enum_column(SalesStage, "sales_stage"), default=SalesStage.LEAD
    )
    # The open stage it was lost from, so that the funnel knows how far it got.
    lost_from: Mapped[SalesStage | None] = mapped_column(enum_column(SalesStage, "lost_from_stage"))
    lost_reason: Mapped[str | None] = mapped_column(sa.String(200))
    opened_on: Mapped[date] = mapped_column(sa.Date)
    expected_close_on: Mapped[date] = mapped_column(sa.Date)
    closed_on: Mapped[date | None] = mapped_column(sa.Date)
    source: Mapped[OpportunitySource] = mapped_column(
        enum_column(OpportunitySource, "opportunity_source"), default=OpportunitySource.OTHER
    )
    # The record that produced it, per source: at most one of these is set.
    experience_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("experience.id", ondelete="SET NULL")
    )
    callback_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("maturity_callback.id", ondelete="SET NULL")
    )
    referrer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("customer.id", ondelete="SET NULL")
    )
    group_event_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("group_event.id", ondelete="SET NULL")
    )
    notes: Mapped[str | None] = mapped_column(sa.Text)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer] = relationship(foreign_keys=[customer_id])
    owner: Mapped[Staff] = relationship()
    product: Mapped[Product] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_open(self) -> bool:
        return self.stage not in (SalesStage.WON, SalesStage.LOST)

    def __repr__(self) -> str:
        return f"<Opportunity {self.id} {self.stage}>"
