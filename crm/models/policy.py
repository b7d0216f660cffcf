"""Policy (保单) aggregate: what a customer holds."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.models.base import Base, Money, UTCDateTime, utcnow
from crm.models.customer import Customer
from crm.models.enums import PaymentMode, PolicyStatus, ProductType, enum_column
from crm.models.product import Product


class Policy(Base):
    __tablename__ = "policy"
    __table_args__ = (sa.CheckConstraint("premium >= 0", name="premium_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customer.id"), index=True)
    policy_number: Mapped[str] = mapped_column(sa.String(40), unique=True)
    product_name: Mapped[str] = mapped_column(sa.String(120))
    # The catalogue product sold, when it is one (its risk level is checked at sale).
    product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("product.id"))
    product_type: Mapped[ProductType] = mapped_column(enum_column(ProductType, "product_type"))
    premium: Mapped[Decimal] = mapped_column(Money)
    payment_mode: Mapped[PaymentMode] = mapped_column(enum_column(PaymentMode, "payment_mode"))
    start_date: Mapped[date] = mapped_column(sa.Date)
    # Whole-life cover has no maturity; the maturity scan (满期) reads this index.
    maturity_date: Mapped[date | None] = mapped_column(sa.Date, index=True)
    status: Mapped[PolicyStatus] = mapped_column(
        enum_column(PolicyStatus, "policy_status"), default=PolicyStatus.IN_FORCE
    )
    # The opportunity (商机) won by this sale, when the pipeline recorded it.
    opportunity_id: Mapped[int | None] = mapped_column(
        # Added after both tables exist: an opportunity names a call-back, which names a policy.
        sa.ForeignKey("opportunity.id", ondelete="SET NULL", use_alter=True),
        index=True,
    )
    # Seed 000's sales compliance, needed for an investment-type product: the dual recording's
    # reference (双录编号), the notice that returns shown are hypothetical (收益演示为假设情景)
    # shown, and the customer's acknowledgement of the product's risk (已了解产品风险).
    dual_recording_ref: Mapped[str | None] = mapped_column(sa.String(60))
    returns_notice_shown: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    risk_acknowledged: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="policies")
    product: Mapped[Product | None] = relationship()

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Policy {self.policy_number}>"
