"""Products (产品) on the shelf that admins keep, each rated with a risk level for suitability
(适当性) and described as the sale rules and the call-back hints read it."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.models.base import Base, UTCDateTime, utcnow
from crm.models.enums import ProductType, RiskLevel, enum_column

TERM_YEARS_MAX = 100
AGE_MAX = 120  # the oldest age a band may name


class Product(Base):
    __tablename__ = "product"
    __table_args__ = (
        sa.UniqueConstraint("name", "insurer", name="uq_product_name_insurer"),
        sa.CheckConstraint(
            f"term_years IS NULL OR term_years BETWEEN 1 AND {TERM_YEARS_MAX}", name="term_range"
        ),
        sa.CheckConstraint(
            "active_from IS NULL OR active_to IS NULL OR active_to >= active_from",
            name="active_window",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    # The insurer (保险公司) that underwrites it; the bank's own name for a deposit.
    insurer: Mapped[str] = mapped_column(sa.String(120), default="", server_default="")
    product_type: Mapped[ProductType] = mapped_column(enum_column(ProductType, "product_type"))
    # The insurer's rating: a customer may be offered a product at or below their own level.
    risk_level: Mapped[RiskLevel] = mapped_column(enum_column(RiskLevel, "risk_level"))
    # Term in years; None: for life (终身) or open-ended.
    term_years: Mapped[int | None]
    # Payment modes: a single premium (趸交) and/or regular premiums (期缴) over these numbers
    # of years, stored as "3,5,10".
    single_premium: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    regular_years: Mapped[str] = mapped_column(sa.String(60), default="", server_default="")
    # Investment-type (投资型: participating, universal, investment-linked and the like): a
    # sale needs the dual recording, the returns notice and the risk acknowledgement.
    investment_type: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # The age bands it suits, for the call-back hints (seed 003), stored as "31-40,51-60"
    # ("61-": 61 and over); empty: hinted at no age.
    age_bands: Mapped[str] = mapped_column(sa.String(60), default="", server_default="")
    # On sale from/to (inclusive, the business's dates); None: no bound that side. A retired
    # product (active False) is off the shelf whatever the dates.
    active_from: Mapped[date | None] = mapped_column(sa.Date)
    active_to: Mapped[date | None] = mapped_column(sa.Date)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True, server_default=sa.true())
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}

    @property
    def regular_terms(self) -> list[int]:
        return [int(y) for y in self.regular_years.split(",") if y.strip()]

    def on_sale(self, day: date) -> bool:
        """On the shelf on ``day``: not retired, and within its active dates."""
        return (
            self.active
            and (self.active_from is None or self.active_from <= day)
            and (self.active_to is None or day <= self.active_to)
        )

    @property
    def bands(self) -> list[tuple[int, int | None]]:
        """The age bands as (from, to), to None for "and over"."""
        found = []
        for band in self.age_bands.split(","):
            low, _, high = band.strip().partition("-")
            if low:
                found.append((int(low), int(high) if high else None))
        return found

    def suits_age(self, age: int) -> bool:
        return any(low <= age and (high is None or age <= high) for low, high in self.bands)

    def __repr__(self) -> str:
        return f"<Product {self.name} {self.risk_level}>"
