"""Holdout experiments (对照实验): a touchpoint policy withheld from a random share of the
customers it covers, who got which arm, and the plans that broke the holdout anyway."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.models.base import Base, Money, UTCDateTime, utcnow
from crm.models.enums import Quadrant, Touchpoint, enum_column
from crm.models.staff import Staff


class ExperimentStatus(StrEnum):
    """draft → running → stopped → analysed; the design is locked from running on."""

    DRAFT = "draft"
    RUNNING = "running"
    STOPPED = "stopped"
    ANALYSED = "analysed"


class Metric(StrEnum):
    """The primary metric, fixed before the start (no moving the goalposts)."""

    UPWARD_MOVE = "upward_move"  # the customer ends the window higher on the grid
    WILLINGNESS_CHANGE = "willingness_change"  # points of willingness gained
    POLICY_BOUGHT = "policy_bought"  # a policy started within the window
    PREMIUM = "premium"  # CNY of premium of the policies started within the window
    LOST = "lost"  # the customer was lost (流失) within the window


class Arm(StrEnum):
    TREATMENT = "treatment"  # planned as usual
    HOLDOUT = "holdout"  # the category withheld while the experiment runs


class Experiment(Base):
    __tablename__ = "experiment"
    __table_args__ = (
        sa.CheckConstraint(
            "holdout_share >= 0.05 AND holdout_share <= 0.50", name="holdout_share_range"
        ),
        sa.CheckConstraint("horizon_days > 0", name="horizon_days_positive"),
        # The planner asks, for every customer it plans, which running experiments hold
        # a category back.
        sa.Index("ix_experiment_status_category", "status", "category"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    hypothesis: Mapped[str | None] = mapped_column(sa.Text)
    category: Mapped[Touchpoint] = mapped_column(enum_column(Touchpoint, "category"))
    # The scope: quadrant keys, and branch ids (empty: every branch).
    quadrants: Mapped[list] = mapped_column(sa.JSON)
    branch_ids: Mapped[list] = mapped_column(sa.JSON, default=list)
    holdout_share: Mapped[Decimal] = mapped_column(sa.Numeric(3, 2))
    metric: Mapped[Metric] = mapped_column(enum_column(Metric, "metric"))
    horizon_days: Mapped[int] = mapped_column(sa.Integer)
    status: Mapped[ExperimentStatus] = mapped_column(
        enum_column(ExperimentStatus, "experiment_status"), default=ExperimentStatus.DRAFT
    )
    # The key of the assignment hash: a customer's arm cannot be guessed or steered from
    # their id alone, and is the same however often it is computed.
    key: Mapped[str] = mapped_column(sa.String(64))
    started_on: Mapped[date | None] = mapped_column(sa.Date)
    stopped_on: Mapped[date | None] = mapped_column(sa.Date)
    analysed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)

    created_by: Mapped[Staff | None] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def quadrant_keys(self) -> list[Quadrant]:
        return [Quadrant(q) for q in self.quadrants]

    def __repr__(self) -> str:
        return f"<Experiment {self.id} {self.category} {self.status}>"


class ExperimentAssignment(Base):
    """A customer's arm, recorded once and never changed, with what they were before."""

    __tablename__ = "experiment_assignment"
    __table_args__ = (
        # The planner's question: is this customer held out of a running experiment?
        sa.Index("ix_experiment_assignment_customer_id_arm", "customer_id", "arm"),
        # The report's groups (arm, quadrant) read in the index's order, with no sort of
        # every customer; the planner's holdout list one range.
        sa.Index(
            "ix_experiment_assignment_experiment_id_arm_quadrant",
            "experiment_id",
            "arm",
            "quadrant",
        ),
    )

    experiment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("experiment.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True
    )
    arm: Mapped[Arm] = mapped_column(enum_column(Arm, "arm"))
    # The stratum and the pre-period covariates of the balance table, as they were on the
    # day of assignment: the report compares the arms before anything was withheld.
    quadrant: Mapped[Quadrant] = mapped_column(enum_column(Quadrant, "quadrant"))
    branch_id: Mapped[int] = mapped_column(sa.Integer)
    liquid_assets: Mapped[Decimal] = mapped_column(Money)
    willingness: Mapped[int] = mapped_column(sa.Integer)
    age: Mapped[int | None] = mapped_column(sa.SmallInteger)
    assigned_on: Mapped[date] = mapped_column(sa.Date)
    # What the customer's held experiences (and no-shows) within the experiment's window
    # cost: kept by the database as experiences are written (migration 0026), counted
    # afresh at assignment and at a stop, so the report reads a column rather than every
    # experience of the window.
    spent: Mapped[Decimal] = mapped_column(Money, server_default=sa.text("0"))
    # Where the customer stands today, and the day they were lost while they are: copied
    # at assignment and kept by the database as the dossier changes (migration 0027), so
    # the report reads the assignments alone rather than joining every customer.
    quadrant_now: Mapped[Quadrant] = mapped_column(enum_column(Quadrant, "quadrant_now"))
    willingness_now: Mapped[int] = mapped_column(sa.Integer)
    lost_on: Mapped[date | None] = mapped_column(sa.Date)


class ExperimentContamination(Base):
    """A holdout customer planned the withheld category by hand anyway, after a warning."""

    __tablename__ = "experiment_contamination"

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("experiment.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customer.id", ondelete="CASCADE"))
    experience_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("experience.id", ondelete="SET NULL")
    )
    staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
