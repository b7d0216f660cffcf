"""Rows the tests make: staff who log in with ``PASSWORD``, and customers with plain defaults.

Each is added to the session and left for the caller to commit.
"""

from __future__ import annotations

from decimal import Decimal

from crm.extensions import db
from crm.models import Branch, Customer, Staff
from crm.models.enums import Role

PASSWORD = "correct-horse"


def make_staff(username: str, role: Role, branch: Branch | None) -> Staff:
    staff = Staff(username=username, display_name=username.title(), role=role, branch=branch)
    staff.set_password(PASSWORD)
    db.session.add(staff)
    return staff


def make_customer(owner: Staff, name: str, phone: str, **fields) -> Customer:
    customer = Customer(
        name=name,
        phone=phone,
        phone_last4=phone[-4:],
        owner=owner,
        branch=owner.branch,
        liquid_assets=fields.pop("liquid_assets", Decimal("100000.00")),
        willingness=fields.pop("willingness", 40),
        **fields,
    )
    db.session.add(customer)
    return customer


def customer_row(n: int, owner: Staff, created, **fields) -> dict:
    """The n-th of a plan test's many customers, as a row for one bulk INSERT: ``客户{n}``,
    phone ``+86137`` and n in eight digits, a develop customer of ``owner``; ``fields``
    change any column."""
    return {
        "name": f"客户{n}",
        "name_pinyin": f"kehu{n}",
        "name_initials": "kh",
        "phone": f"+86137{n:08d}",
        "phone_last4": f"{n:08d}"[-4:],
        "gender": "unspecified",
        "liquid_assets": 0,
        "willingness": 30,
        "risk_level": "R1",
        "quadrant": "develop",
        "owner_id": owner.id,
        "branch_id": owner.branch_id,
        "sms_consent": False,
        "version": 1,
        "created_at": created,
        "updated_at": created,
        **fields,
    }
