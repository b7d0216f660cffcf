"""Products (产品) on the shelf, each rated with a risk level for suitability (适当性)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.models.base import Base, UTCDateTime, utcnow
from crm.models.enums import ProductType, RiskLevel, enum_column


class Product(Base):
    __tablename__ = "product"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    product_type: Mapped[ProductType] = mapped_column(enum_column(ProductType, "product_type"))
    # The insurer's rating: a customer may be offered a product at or below their own level.
    risk_level: Mapped[RiskLevel] = mapped_column(enum_column(RiskLevel, "risk_level"))
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True, server_default=sa.true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Product {self.name} {self.risk_level}>"
