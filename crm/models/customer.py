"""Customer dossier (客户档案) aggregate, with its tags."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from crm.models.base import Base, Money, UTCDateTime, utcnow
from crm.models.branch import Branch
from crm.models.enums import (
    Channel,
    ChurnLevel,
    Gender,
    LostReason,
    Quadrant,
    RelationshipStatus,
    RiskLevel,
    enum_column,
)
from crm.models.spelling import INITIALS_LENGTH, PINYIN_LENGTH, spell
from crm.models.staff import Staff

# Willingness (意愿度) is a whole score from 0 to 100. A dossier opened without one starts at
# 30 (acquainted) and at the most cautious risk level: the form, the API and imports read
# these, and so does the table's check.
WILLINGNESS_MIN = 0
WILLINGNESS_MAX = 100
DEFAULT_WILLINGNESS = 30
DEFAULT_RISK_LEVEL = RiskLevel.R1


def searched_text(length: int) -> sa.types.TypeEngine:
    """Text that compares code point by code point on PostgreSQL too (collation "C"), as
    SQLite's does: a prefix is then a range of its B-tree index (``name >= '张' AND name <
    '弡'``) whatever the database's locale, and a bound parameter plans like a literal."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


customer_tag = sa.Table(
    "customer_tag",
    Base.metadata,
    sa.Column("customer_id", sa.Integer, primary_key=True),
    sa.Column("tag_id", sa.ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True),
    # The customer's branch, copied so that a branch's list by tag reads one index. The key
    # below holds it to the customer's own: a link with another branch cannot be written,
    # and a handover or any other change of branch moves the customer's links with it.
    sa.Column("branch_id", sa.Integer, nullable=False),
    sa.ForeignKeyConstraint(
        ["customer_id", "branch_id"],
        ["customer.id", "customer.branch_id"],
        name="fk_customer_tag_customer_id_customer",
        ondelete="CASCADE",
        onupdate="CASCADE",
    ),
    sa.Index("ix_customer_tag_tag_id_customer_id", "tag_id", "customer_id"),
    sa.Index("ix_customer_tag_branch_id_tag_id_customer_id", "branch_id", "tag_id", "customer_id"),
)


class Tag(Base):
    __tablename__ = "tag"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40), unique=True)

    def __repr__(self) -> str:
        return f"<Tag {self.name}>"


class Customer(Base):
    __tablename__ = "customer"
    __table_args__ = (
        sa.CheckConstraint(
            f"willingness BETWEEN {WILLINGNESS_MIN} AND {WILLINGNESS_MAX}", name="willingness_range"
        ),
        sa.CheckConstraint("liquid_assets >= 0", name="liquid_assets_not_negative"),
        # The list pages walk these in id order (keyset pagination), filtered by owner or branch.
        sa.Index("ix_customer_owner_id_id", "owner_id", "id"),
        sa.Index("ix_customer_branch_id_id", "branch_id", "id"),
        sa.Index("ix_customer_quadrant_id", "quadrant", "id"),
        sa.Index("ix_customer_owner_id_quadrant_id", "owner_id", "quadrant", "id"),
        # The search's (crm.services.customers.search): a prefix is a range of one of these,
        # a phone tail a key of the last; with the ids, counting matches reads the index alone.
        sa.Index("ix_customer_name_id", "name", "id"),
        sa.Index("ix_customer_name_pinyin_id", "name_pinyin", "id"),
        sa.Index("ix_customer_name_initials_id", "name_initials", "id"),
        sa.Index("ix_customer_phone_last4_id", "phone_last4", "id"),
        # The list's ?churn= filter walks these as it walks the quadrant's.
        sa.Index("ix_customer_churn_level_id", "churn_level", "id"),
        sa.Index("ix_customer_owner_id_churn_level_id", "owner_id", "churn_level", "id"),
        sa.CheckConstraint("churn_score BETWEEN 0 AND 100", name="churn_score_range"),
        # The list's sorts (customer_list.SORTS) page by (value, id), the whole bank's and a
        # branch's; the name sorts by its pinyin, on the search's index above.
        sa.Index("ix_customer_liquid_assets_id", "liquid_assets", "id"),
        sa.Index("ix_customer_willingness_id", "willingness", "id"),
        sa.Index("ix_customer_branch_id_name_pinyin_id", "branch_id", "name_pinyin", "id"),
        sa.Index("ix_customer_branch_id_liquid_assets_id", "branch_id", "liquid_assets", "id"),
        sa.Index("ix_customer_branch_id_willingness_id", "branch_id", "willingness", "id"),
        # And a relationship manager's own: PostgreSQL otherwise walks the bank's sort index
        # for the owner's few rows (50 ms at a million customers). This one also carries what
        # the search reads (0028): on PostgreSQL a search among one's own reads it alone.
        sa.Index(
            "ix_customer_owner_id_name_pinyin_id",
            "owner_id",
            "name_pinyin",
            "id",
            postgresql_include=["name", "name_initials", "phone_last4"],
        ),
        sa.Index("ix_customer_owner_id_liquid_assets_id", "owner_id", "liquid_assets", "id"),
        sa.Index("ix_customer_owner_id_willingness_id", "owner_id", "willingness", "id"),
        # The list's total for a branch's quadrant (the grid's drill-down), off the index alone.
        sa.Index("ix_customer_branch_id_quadrant_id", "branch_id", "quadrant", "id"),
        # The list's sorts by last contact and next planned experience (0019), each the
        # bank's, a branch's and an owner's, as above.
        sa.Index("ix_customer_last_contact_on_id", "last_contact_on", "id"),
        sa.Index("ix_customer_branch_id_last_contact_on_id", "branch_id", "last_contact_on", "id"),
        sa.Index("ix_customer_owner_id_last_contact_on_id", "owner_id", "last_contact_on", "id"),
        sa.Index("ix_customer_next_planned_on_id", "next_planned_on", "id"),
        sa.Index("ix_customer_branch_id_next_planned_on_id", "branch_id", "next_planned_on", "id"),
        sa.Index("ix_customer_owner_id_next_planned_on_id", "owner_id", "next_planned_on", "id"),
        # What customer_tag's (customer_id, branch_id) refers to.
        sa.Index("ix_customer_id_branch_id", "id", "branch_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(searched_text(60))
    # How the name is typed (crm.models.spelling): set with the name, never by hand.
    name_pinyin: Mapped[str] = mapped_column(searched_text(PINYIN_LENGTH), server_default="")
    name_initials: Mapped[str] = mapped_column(searched_text(INITIALS_LENGTH), server_default="")
    gender: Mapped[Gender] = mapped_column(
        enum_column(Gender, "gender"), default=Gender.UNSPECIFIED
    )
    birth_date: Mapped[date | None] = mapped_column(sa.Date)
    # A birthday kept by the lunar calendar (农历生日): its lunar month, day and leap month
    # (闰月), on which the greeting falls each year (crm.services.occasions.birthdays).
    birthday_is_lunar: Mapped[bool] = mapped_column(
        sa.Boolean, default=False, server_default=sa.false()
    )
    lunar_birth_month: Mapped[int | None] = mapped_column(sa.SmallInteger)
    lunar_birth_day: Mapped[int | None] = mapped_column(sa.SmallInteger)
    lunar_birth_leap: Mapped[bool | None] = mapped_column(sa.Boolean)
    # E.164 (+8613812341234); the last four digits are kept apart for "phone tail" search.
    phone: Mapped[str] = mapped_column(sa.String(20), unique=True)
    phone_last4: Mapped[str] = mapped_column(sa.String(4))
    email: Mapped[str | None] = mapped_column(sa.String(120))
    occupation: Mapped[str | None] = mapped_column(sa.String(80))
    family_notes: Mapped[str | None] = mapped_column(sa.Text)
    interests_notes: Mapped[str | None] = mapped_column(sa.Text)
    liquid_assets: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    assets_as_of: Mapped[date | None] = mapped_column(sa.Date)
    willingness: Mapped[int] = mapped_column(sa.Integer, default=DEFAULT_WILLINGNESS)
    # Derived from assets, willingness and the thresholds (crm.services.customers.tiering);
    # kept here for filtering, and every change of it is a QuadrantEvent.
    quadrant: Mapped[Quadrant] = mapped_column(
        enum_column(Quadrant, "quadrant"), default=Quadrant.DEVELOP
    )
    risk_level: Mapped[RiskLevel] = mapped_column(
        enum_column(RiskLevel, "risk_level"), default=DEFAULT_RISK_LEVEL, index=True
    )
    channel: Mapped[Channel | None] = mapped_column(enum_column(Channel, "channel"))
    referred_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customer.id"), index=True)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("staff.id"))
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("branch.id"))
    sms_consent: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    sms_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sms_opt_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notes: Mapped[str | None] = mapped_column(sa.Text)
    # Churn warning (流失预警, crm.services.retention): the status staff set, with a reason and
    # a date once lost; and the risk the nightly scoring stores, with its reasons as codes and
    # figures (rendered in the reader's language) and when it was computed.
    relationship_status: Mapped[RelationshipStatus] = mapped_column(
        enum_column(RelationshipStatus, "relationship_status"),
        default=RelationshipStatus.ACTIVE,
        server_default=RelationshipStatus.ACTIVE.value,
    )
    lost_reason: Mapped[LostReason | None] = mapped_column(enum_column(LostReason, "lost_reason"))
    lost_on: Mapped[date | None] = mapped_column(sa.Date)
    churn_score: Mapped[int | None] = mapped_column(sa.SmallInteger)
    churn_level: Mapped[ChurnLevel | None] = mapped_column(enum_column(ChurnLevel, "churn_level"))
    churn_reasons: Mapped[list | None] = mapped_column(sa.JSON)
    churn_scored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The day of the last contact and of the next planned experience, derived from the
    # experiences (crm.services.planning.contact_dates, which says what counts) and kept
    # here for the list's sorts; None when there is none. Never set by hand.
    last_contact_on: Mapped[date | None] = mapped_column(sa.Date)
    next_planned_on: Mapped[date | None] = mapped_column(sa.Date)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    owner: Mapped[Staff] = relationship(foreign_keys=[owner_id])
    branch: Mapped[Branch] = relationship()
    referred_by: Mapped[Customer | None] = relationship(remote_side=[id])
    # Read here, written only by crm.services.customers.tags (each link carries the branch).
    tags: Mapped[list[Tag]] = relationship(
        secondary=customer_tag,
        primaryjoin=lambda: Customer.id == customer_tag.c.customer_id,
        secondaryjoin=lambda: Tag.id == customer_tag.c.tag_id,
        order_by=Tag.name,
        viewonly=True,
    )
    policies: Mapped[list[Policy]] = relationship(  # noqa: F821
        back_populates="customer", order_by="Policy.start_date.desc()"
    )

    # Two people editing one dossier: the second write fails instead of overwriting.
    __mapper_args__ = {"version_id_col": version}

    @validates("name")
    def _spell(self, _key: str, name: str) -> str:
        """Every name set through the ORM (the forms, the API, the simulator) is spelled at
        once; set-based writers call ``spell`` themselves."""
        self.name_pinyin, self.name_initials = spell(name or "")
        return name

    @property
    def tag_names(self) -> list[str]:
        return [t.name for t in self.tags]

    def __repr__(self) -> str:
        return f"<Customer {self.id} {self.name}>"
