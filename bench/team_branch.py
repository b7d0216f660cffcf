"""The first branch's month of work for `bench/team.py`, set-based: an experience per
customer within twenty days either side of today (a third held), complaints, maturing
policies and their call-backs (a quarter recorded today), high churn risk, sign-ins."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from crm.extensions import db
from crm.models import (
    Complaint,
    Customer,
    Experience,
    MaturityCallback,
    Policy,
    Staff,
    StaffSession,
)
from crm.models.base import utcnow
from crm.services.followup import calls


def insert_from_select(table, columns, source) -> None:
    db.session.execute(sa.insert(table).from_select(columns, source))


def _days_from(today: date, days: sa.ColumnElement) -> sa.ColumnElement:
    """``today`` plus a whole number of days per row (negative: before)."""
    if db.engine.dialect.name == "sqlite":
        return sa.func.date(sa.literal(today.isoformat()), sa.cast(days, sa.String) + " days")
    return sa.cast(sa.literal(today, sa.Date), sa.Date) + days


def give_the_branch_a_month(branch_id: int, today: date) -> int:
    """The first branch's month of work (set-based); returns its customers."""
    mine = Customer.branch_id == branch_id
    now = sa.literal(utcnow(), Experience.created_at.type)
    cost = sa.literal(Decimal("80.00"), Experience.planned_cost.type)
    due = _days_from(today, Customer.id % 40 - 20)
    held = Customer.id % 3 == 0
    insert_from_select(
        Experience.__table__,
        [
            "customer_id",
            "owner_id",
            "category",
            "status",
            "origin",
            "due_on",
            "held_on",
            "planned_cost",
            "created_at",
            "version",
        ],
        sa.select(
            Customer.id,
            Customer.owner_id,
            sa.literal("visit"),
            sa.case((held, "done"), else_="planned"),
            sa.literal("staff"),
            due,
            sa.case((held, due), else_=None),
            cost,
            now,
            sa.literal(1),
        ).where(mine),
    )
    opened = sa.literal(utcnow(), Complaint.opened_at.type)
    insert_from_select(
        Complaint.__table__,
        ["customer_id", "point", "opened_at", "due_at", "version"],
        sa.select(
            Customer.id,
            sa.literal("满期收益低于预期"),
            opened,
            sa.case(
                (
                    Customer.id % 200 == 0,
                    sa.literal(utcnow().replace(year=2020), Complaint.due_at.type),
                ),
                else_=sa.literal(utcnow().replace(year=2099), Complaint.due_at.type),
            ),
            sa.literal(1),
        ).where(mine, Customer.id % 100 == 0),
    )
    insert_from_select(
        Policy.__table__,
        [
            "customer_id",
            "policy_number",
            "product_name",
            "product_type",
            "premium",
            "payment_mode",
            "start_date",
            "maturity_date",
            "status",
            "version",
            "created_at",
            "updated_at",
        ],
        sa.select(
            Customer.id,
            sa.literal("PT") + sa.cast(Customer.id, sa.String),
            sa.literal("千里马两全保险(分红型)"),
            sa.literal("participating"),
            sa.literal(Decimal("50000.00"), Policy.premium.type),
            sa.literal("single"),
            sa.literal(date(2021, 1, 1)),
            sa.literal(today.replace(day=1)),
            sa.literal("in_force"),
            sa.literal(1),
            now,
            now,
        ).where(mine, Customer.id % 50 == 0),
    )
    calls.maturity_scan(today)
    callback_owner = (
        sa.select(Customer.owner_id)
        .where(Customer.id == MaturityCallback.customer_id)
        .scalar_subquery()
    )
    db.session.execute(
        sa.update(MaturityCallback)
        .where(MaturityCallback.id % 4 == 0)
        .values(recorded_at=utcnow(), recorded_on=today, recorded_by_id=callback_owner)
    )
    db.session.execute(
        sa.update(Customer).where(mine, Customer.id % 10 == 0).values(churn_level="high")
    )
    members = db.session.scalars(sa.select(Staff.id).where(Staff.branch_id == branch_id)).all()
    db.session.add_all(
        StaffSession(key_hash=f"{n:064d}", staff_id=n, started_at=utcnow()) for n in members
    )
    db.session.commit()
    return db.session.scalar(sa.select(sa.func.count()).where(mine))
