"""Follow-up records for the sheet and ranking tests: policies, recorded call-backs,
complaints and experiences written directly, with known days and people."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from crm.extensions import db
from crm.models import Complaint, Experience, MaturityCallback, Policy
from crm.models.enums import (
    CallbackIntent,
    ExperienceStatus,
    PaymentMode,
    PlanOrigin,
    PolicyStatus,
    ProductType,
    Touchpoint,
)

_numbers = iter(range(1, 1_000_000))


def recorded_callback(customer, by, on: date, intent: CallbackIntent, **notes) -> MaturityCallback:
    policy = Policy(
        customer=customer,
        policy_number=f"BX{next(_numbers):07d}",
        product_name="鑫享两全保险（分红型）",
        product_type=ProductType.PARTICIPATING,
        premium=Decimal("50000.00"),
        payment_mode=PaymentMode.SINGLE,
        start_date=date(2021, 1, 1),
        maturity_date=on,
        status=PolicyStatus.IN_FORCE,
    )
    db.session.add(policy)
    callback = MaturityCallback(
        policy=policy,
        customer=customer,
        owner_id=customer.owner_id,
        maturity_date=on,
        intent=intent,
        recorded_at=datetime(on.year, on.month, on.day, 2, tzinfo=UTC),
        recorded_on=on,
        recorded_by_id=by.id,
        **notes,
    )
    db.session.add(callback)
    return callback


def complaint(customer, opened: datetime, answered: datetime | None = None, by=None, **fields):
    row = Complaint(
        customer_id=customer.id,
        point=fields.pop("point", "满期收益低于预期"),
        opened_at=opened,
        due_at=opened + timedelta(days=7),
        answered_at=answered,
        answered_by_id=by.id if by is not None else None,
        **fields,
    )
    db.session.add(row)
    return row


def held_experience(customer, by, on: date) -> Experience:
    row = Experience(
        customer_id=customer.id,
        category=Touchpoint.VISIT,
        status=ExperienceStatus.DONE,
        origin=PlanOrigin.STAFF,
        due_on=on,
        held_on=on,
        planned_cost=Decimal("50.00"),
        actual_cost=Decimal("50.00"),
        recorded_by_id=by.id,
    )
    db.session.add(row)
    return row
