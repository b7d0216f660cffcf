"""Maturity policies for the follow-up page tests: made, scanned into call-backs, looked up."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import MaturityCallback, Policy
from crm.models.enums import PaymentMode, PolicyStatus, ProductType
from crm.services.followup import calls

_numbers = iter(range(1, 1_000_000))


def policy(customer, maturity: date, kind=ProductType.PARTICIPATING) -> Policy:
    p = Policy(
        customer=customer,
        policy_number=f"BX{next(_numbers):07d}",
        product_name="鑫享两全保险（分红型）" if kind == ProductType.PARTICIPATING else "稳盈万能",
        product_type=kind,
        premium=Decimal("50000.00"),
        payment_mode=PaymentMode.SINGLE,
        start_date=date(2019, 1, 1),
        maturity_date=maturity,
        status=PolicyStatus.IN_FORCE,
    )
    db.session.add(p)
    return p


def next_month(day: int) -> date:
    """A day of next month: always inside the scan's window, never in the past."""
    first = (local_today().replace(day=1) + timedelta(days=32)).replace(day=1)
    return first.replace(day=day)


def scan() -> None:
    calls.maturity_scan()
    db.session.commit()


def callback_of(p: Policy) -> MaturityCallback:
    return db.session.scalars(
        sa.select(MaturityCallback).where(MaturityCallback.policy_id == p.id)
    ).one()
