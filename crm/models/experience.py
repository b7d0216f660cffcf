"""Experiences (体验): each planned, held or cancelled touchpoint with one customer."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.models.base import Base, Money, UTCDateTime, utcnow
from crm.models.customer import Customer
from crm.models.enums import ExperienceStatus, PlanOrigin, Response, Touchpoint, enum_column
from crm.models.group_event import GroupEvent
from crm.models.product import Product
from crm.models.staff import Staff


class Experience(Base):
    __tablename__ = "experience"
    __table_args__ = (
        sa.CheckConstraint("planned_cost >= 0", name="planned_cost_not_negative"),
        sa.CheckConstraint(
            "actual_cost IS NULL OR actual_cost >= 0", name="actual_cost_not_negative"
        ),
        # The planner reads each customer's latest experience per category (its cadence anchor).
        sa.Index("ix_experience_customer_id_category_due_on", "customer_id", "category", "due_on"),
        # The planner never plans one category twice on one day for one customer, even if two
        # planners ran at once.
        sa.Index(
            "uq_experience_cadence_slot",
            "customer_id",
            "category",
            "due_on",
            unique=True,
            sqlite_where=sa.text("origin = 'cadence'"),
            postgresql_where=sa.text("origin = 'cadence'"),
        ),
        sa.Index("ix_experience_status_due_on", "status", "due_on"),
        # The team page's counts of each staff member's customers' experiences by status and
        # due day, and the dashboard's budget used per quadrant (held or due, planned or
        # actual cost), both read from this index alone, never the rows
        # (crm.services.management.team, .dashboard).
        sa.Index(
            "ix_experience_customer_id_status_due_on_costs",
            "customer_id",
            "status",
            "due_on",
            "category",
            "held_on",
            "planned_cost",
            "actual_cost",
        ),
        # The team page's counts of each staff member's experiences by status and due day,
        # one index range a staff member however large their book (crm.services.management.team).
        sa.Index(
            "ix_experience_owner_id_status_due_on_category",
            "owner_id",
            "status",
            "due_on",
            "category",
        ),
        sa.UniqueConstraint("group_event_id", "customer_id", name="uq_experience_invitation"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customer.id", ondelete="CASCADE"))
    # The staff member answerable for it: the customer's owner while it is planned (a
    # handover or any reassignment moves the planned ones with the customer), and whoever
    # owned the customer when it was held, no-show or cancelled, so that a leaver's work stays
    # theirs. Kept by the database (migration 0025's triggers), whoever writes the rows; bulk
    # writers give it to spare the triggers a lookup a row.
    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff.id"),
        server_default=sa.FetchedValue(),
        server_onupdate=sa.FetchedValue(),
    )
    category: Mapped[Touchpoint] = mapped_column(
        enum_column(Touchpoint, "category"), sa.ForeignKey("touchpoint_category.key")
    )
    status: Mapped[ExperienceStatus] = mapped_column(
        enum_column(ExperienceStatus, "status"), default=ExperienceStatus.PLANNED
    )
    origin: Mapped[PlanOrigin] = mapped_column(enum_column(PlanOrigin, "origin"))
    due_on: Mapped[date] = mapped_column(sa.Date)
    held_on: Mapped[date | None] = mapped_column(sa.Date)
    planned_cost: Mapped[Decimal] = mapped_column(Money)
    actual_cost: Mapped[Decimal | None] = mapped_column(Money)
    response: Mapped[Response | None] = mapped_column(enum_column(Response, "response"))
    notes: Mapped[str | None] = mapped_column(sa.Text)
    group_event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("group_event.id"))
    # The occasion a greeting SMS is for (a birthday, a festival, a policy anniversary:
    # crm.services.planning.greetings); None for every other experience.
    occasion: Mapped[str | None] = mapped_column(sa.String(40))
    # A product recommended during the experience, within the customer's risk level (适当性).
    product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("product.id"))
    # A manager's approval of a "never" category or of a plan past the customer's budget.
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff.id"))
    approval_reason: Mapped[str | None] = mapped_column(sa.String(500))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff.id"))  # None: planner
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The outcome (体验记录) is recorded once; recording again is refused.
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff.id"))
    version: Mapped[int] = mapped_column(sa.Integer, default=1)

    customer: Mapped[Customer] = relationship()
    group_event: Mapped[GroupEvent | None] = relationship()
    product: Mapped[Product | None] = relationship()
    approved_by: Mapped[Staff | None] = relationship(foreign_keys=[approved_by_id])
    recorded_by: Mapped[Staff | None] = relationship(foreign_keys=[recorded_by_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def cost(self) -> Decimal:
        """What it counts against the budget: the actual cost once held, else the plan."""
        if self.status == ExperienceStatus.CANCELLED:
            return Decimal("0.00")
        if self.actual_cost is not None:
            return self.actual_cost
        return self.planned_cost

    def __repr__(self) -> str:
        return f"<Experience {self.id} {self.category} {self.status} {self.due_on}>"
