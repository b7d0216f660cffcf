"""SMS templates (短信模板): the text of routine contacts, per topic and language.

Seed 004: SMS move from templated content (finance ideas, products, markets, news, holidays,
personal dates) to personal as the relationship deepens. Bodies use the customer's fields,
``{name}`` and ``{surname}``; the signature and the opt-out line are added when sending.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.models.base import Base, UTCDateTime, utcnow


class SmsTemplate(Base):
    __tablename__ = "sms_template"

    key: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    locale: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    body: Mapped[str] = mapped_column(sa.String(500))
    # The lowest willingness the template suits (personal tone for closer customers).
    min_willingness: Mapped[int] = mapped_column(sa.Integer, default=0)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
