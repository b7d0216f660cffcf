"""The occasions calendar (/occasions) and the dossier's lunar birthday."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import AuditLog, Customer, Policy
from crm.models.base import utcnow
from crm.models.enums import MoveCause, PaymentMode, ProductType
from crm.services.customers import tiering
from crm.services.occasions import birthdays
from crm.services.planning import planner

pytestmark = pytest.mark.backends("sqlite")


def born_days_ago_in(days_ahead: int, years: int = 40) -> date:
    """A birth date whose birthday falls ``days_ahead`` days from today."""
    day = local_today() + timedelta(days=days_ahead)
    return birthdays.solar_birthday_in(day.year - years, day.replace(day=min(day.day, 28)))


@pytest.fixture
def greeted(world):
    """Alice's customer agrees to SMS and has a birthday in five days, planned."""
    customer = world.alice_customer
    customer.sms_consent, customer.sms_consent_at = True, utcnow()
    customer.birth_date = born_days_ago_in(5)
    tiering.place(customer, MoveCause.IMPORT, None, first=True)
    db.session.commit()
    planner.plan_contacts(local_today() + timedelta(days=28))
    return customer


def test_the_calendar_lists_a_birthday_with_its_greeting_and_not_other_staffs(
    world, greeted, auth, client
):
    bob_customer = world.bob_customer
    bob_customer.birth_date = born_days_ago_in(6)
    db.session.add(
        Policy(
            customer=greeted,
            policy_number="P-OCC-1",
            product_name="鑫享年金",
            product_type=ProductType.ANNUITY,
            premium=Decimal("50000"),
            payment_mode=PaymentMode.REGULAR,
            start_date=born_days_ago_in(9, years=3),
        )
    )
    db.session.commit()
    auth.login("alice")
    page = client.get("/occasions").get_data(as_text=True)
    assert "节日与生日" in page and 'href="/occasions"' in page
    assert "张伟" in page and "李娜" not in page
    assert "40 岁" in page and "问候短信（生日）" in page
    assert "保单周年日" in page and "3 周年" in page


def test_the_calendar_in_english(world, greeted, auth, client):
    auth.login("alice")
    client.post("/language", data={"language": "en"})
    page = client.get("/occasions").get_data(as_text=True)
    assert "Occasions" in page and "greeting SMS (Birthday)" in page


def edit(client, customer, **fields):
    data = {
        "name": customer.name,
        "gender": customer.gender.value,
        "liquid_assets": str(customer.liquid_assets),
        "willingness": str(customer.willingness),
        "risk_level": customer.risk_level.value,
        "owner_id": str(customer.owner_id),
        "branch_id": str(customer.branch_id),
        "version": str(customer.version),
        **fields,
    }
    return client.post(f"/customers/{customer.id}/edit", data=data)


def test_a_lunar_birthday_is_read_from_the_birth_date_and_audited(world, auth, client):
    customer = world.alice_customer
    auth.login("alice")
    response = edit(client, customer, birth_date="1970-04-20", birthday_is_lunar="y")
    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Customer, customer.id)
    assert (saved.lunar_birth_month, saved.lunar_birth_day, saved.lunar_birth_leap) == (
        3,
        15,
        False,
    )
    assert "（农历生日：3-15）" in client.get(f"/customers/{customer.id}").get_data(as_text=True)
    fields = db.session.scalars(
        sa.select(AuditLog.field).where(
            AuditLog.entity == "customer", AuditLog.entity_id == customer.id
        )
    ).all()
    assert {"birth_date", "birthday_is_lunar", "lunar_birth_month"} <= set(fields)


@pytest.mark.parametrize(
    ("birth_date", "lunar", "message"),
    [
        # 1985 has no leap sixth month (its leap month is none).
        ("", "闰6-1", ""),
        ("1985-08-16", "闰6-1", "出生当年没有这个农历日期"),
        # The 30th of a 29-day month of the birth year.
        ("1985-08-16", "SHORT-30", "出生当年没有这个农历日期"),
        ("1985-08-16", "7-2", "该农历生日与出生日期不符"),
        ("2999-01-01", "", "之间的日期"),
        ("TOMORROW", "", "出生日期不能晚于今天"),
        ("", "", "请填写农历生日"),
    ],
)
def test_a_lunar_date_that_does_not_exist_is_refused_and_nothing_written(
    world, auth, client, birth_date, lunar, message
):
    customer = world.alice_customer
    before = customer.version
    if birth_date == "TOMORROW":
        birth_date = str(local_today() + timedelta(days=1))
    if lunar == "SHORT-30":
        # A month of 29 days in lunar 1985.
        month = next(m for m in range(1, 13) if _short(1985, m))
        lunar = f"{month}-30"
    auth.login("alice")
    response = edit(
        client, customer, birth_date=birth_date, birthday_is_lunar="y", lunar_birthday=lunar
    )
    if not message:
        assert response.status_code == 302  # a leap month that some year has, no year given
        return
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    saved = db.session.get(Customer, customer.id)
    assert saved.version == before and not saved.birthday_is_lunar


def _short(year: int, month: int) -> bool:
    try:
        birthdays.to_solar(year, birthdays.LunarDay(month, 30))
    except birthdays.NoSuchLunarDate:
        return True
    return False
