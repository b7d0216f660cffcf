"""The morning digest and the reminders before visits: once each, to the right person, in
their language, and to their own phone where they asked for it."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import Experience, Notification, OutboxMessage, Staff
from crm.models.enums import (
    ExperienceStatus,
    Gender,
    MessagePurpose,
    NotificationKind,
    PlanOrigin,
    Touchpoint,
)
from crm.services.outreach.digest import (
    DIGEST_PROVIDERS,
    LINES_PER_SECTION,
    Section,
    send_morning_digest,
)
from crm.services.outreach.inbox import mark_read, notifications_for, unread_count
from crm.services.outreach.reminders import send_visit_reminders
from crm.services.planning import agenda as agenda_service
from tests.support.factories import make_customer

TODAY = date(2026, 11, 23)


def plan(customer, due_on=TODAY, category=Touchpoint.VISIT, **fields) -> Experience:
    experience = Experience(
        customer=customer,
        category=category,
        status=fields.pop("status", ExperienceStatus.PLANNED),
        origin=PlanOrigin.STAFF,
        due_on=due_on,
        planned_cost=Decimal("80.00"),
        **fields,
    )
    db.session.add(experience)
    db.session.commit()
    return experience


def notes_for(staff, kind=NotificationKind.DIGEST) -> list[Notification]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(Notification)
            .where(Notification.staff_id == staff.id, Notification.kind == kind)
            .order_by(Notification.id)
        )
    )


def staff_messages() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.purpose == MessagePurpose.STAFF)
            .order_by(OutboxMessage.id)
        )
    )


@pytest.fixture
def english(world):
    world.alice.language = "en"
    db.session.commit()
    return world.alice


def test_digest_lists_todays_visit_and_an_overdue_one(world, english):
    plan(world.alice_customer)
    plan(make_customer(world.alice, "陈静", "+8613700004444"), TODAY - timedelta(days=3))
    assert send_morning_digest(TODAY) == 1
    [digest] = notes_for(world.alice)
    assert digest.idempotency_key == f"digest:{world.alice.id}:2026-11-23"
    assert digest.link == "/agenda" and digest.read_at is None
    assert digest.title == "Your morning digest: Today 1 · Overdue 1"
    assert digest.body.splitlines() == [
        "Today (1)",
        "· 张伟 — Periodic visit",
        "Overdue (1)",
        "· 陈静 — Periodic visit, due Nov 20, 2026",
    ]


def test_digest_runs_once_a_day(world):
    plan(world.alice_customer)
    assert send_morning_digest(TODAY) == 1
    assert send_morning_digest(TODAY) == 0
    assert len(notes_for(world.alice)) == 1
    assert send_morning_digest(TODAY + timedelta(days=1)) == 1  # still overdue


def test_nothing_due_means_no_digest(world):
    plan(world.alice_customer, TODAY + timedelta(days=1))  # tomorrow: not in today's digest
    plan(world.alice_customer, category=Touchpoint.ROUTINE)  # the scheduler's SMS
    plan(world.alice_customer, status=ExperienceStatus.DONE, held_on=TODAY)
    assert send_morning_digest(TODAY) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0


def test_digest_is_in_the_staff_members_language(world):
    plan(world.alice_customer)
    plan(world.bob_customer)
    world.bob.language = "en"
    db.session.commit()
    send_morning_digest(TODAY)
    [chinese] = notes_for(world.alice)
    [english] = notes_for(world.bob)
    assert "今日" in chinese.title and "定期拜访" in chinese.body
    assert "Periodic visit" not in chinese.body
    assert "Today 1" in english.title and "Periodic visit" in english.body


def test_digest_holds_only_the_staff_members_own_customers(world):
    plan(world.alice_customer)
    plan(world.bob_customer)
    plan(world.carol_customer, TODAY - timedelta(days=1))
    assert send_morning_digest(TODAY) == 3
    [alice] = notes_for(world.alice)
    assert "张伟" in alice.body and "李娜" not in alice.body and "王芳" not in alice.body
    [carol] = notes_for(world.carol)
    assert "王芳" in carol.body and "张伟" not in carol.body


def test_inactive_staff_get_no_digest(world):
    plan(world.alice_customer)
    world.alice.is_active_account = False
    db.session.commit()
    assert send_morning_digest(TODAY) == 0


def test_digest_matches_the_agenda(world, english):
    customer = world.alice_customer
    for days in (-40, -2, 0, 0, 1, 5):
        plan(customer, TODAY + timedelta(days=days), category=Touchpoint.EVENT)
    send_morning_digest(TODAY)
    [digest] = notes_for(world.alice)
    agenda = agenda_service.agenda(world.alice, TODAY)
    summary = f"Today {len(agenda.today)} · Overdue {len(agenda.overdue)}"
    assert digest.title.endswith(summary)
    assert digest.body.count("General event") == len(agenda.today) + len(agenda.overdue)


def test_a_long_list_names_the_first_items_and_counts_the_rest(world, english):
    for n in range(LINES_PER_SECTION + 3):
        plan(make_customer(world.alice, f"客户{n:02d}", f"+86137000{n:05d}"))
    send_morning_digest(TODAY)
    [digest] = notes_for(world.alice)
    lines = digest.body.splitlines()
    assert len(lines) == 1 + LINES_PER_SECTION + 1
    assert lines[-1] == "… and 3 more"
    assert digest.title.endswith(f"Today {LINES_PER_SECTION + 3}")


def test_a_further_provider_adds_its_section(world, english):
    """Call-backs and complaints join the digest as providers of sections."""
    from flask_babel import lazy_gettext as _l

    def pending(recipients, today):
        ids = db.session.scalars(recipients.where(Staff.id.in_([world.bob.id, world.manager.id])))
        sections = {}
        for staff_id in ids:
            section = Section(_l("Overdue"))
            section.add(_l("Agenda"))
            sections[staff_id] = [section]
        return sections

    plan(world.alice_customer)
    world.bob.language = world.manager.language = "en"
    world.manager.is_active_account = False
    db.session.commit()
    providers = (*DIGEST_PROVIDERS, pending)
    assert send_morning_digest(TODAY, providers=providers) == 2
    [bob] = notes_for(world.bob)
    assert bob.body.splitlines() == ["Overdue (1)", "· Agenda"]
    assert notes_for(world.manager) == []  # inactive: not among the recipients
    [alice] = notes_for(world.alice)
    assert "Agenda" not in alice.body


def test_a_reminder_the_day_before_a_visit_once(world):
    customer = world.alice_customer
    visit = plan(customer, TODAY + timedelta(days=1), notes="带上教育金方案")
    plan(customer, TODAY)  # today: the digest's, not a reminder
    plan(customer, TODAY + timedelta(days=1), category=Touchpoint.ROUTINE)
    assert send_visit_reminders(TODAY) == 1
    assert send_visit_reminders(TODAY) == 0
    [reminder] = notes_for(world.alice, NotificationKind.VISIT_REMINDER)
    assert reminder.idempotency_key == f"visit:{visit.id}"
    assert "张伟" in reminder.title and "定期拜访" in reminder.title
    assert "带上教育金方案" in reminder.body
    assert reminder.link == f"/customers/{customer.id}"
    assert notes_for(world.bob, NotificationKind.VISIT_REMINDER) == []


@pytest.fixture
def by_sms(world):
    world.alice.phone = "+8613912345678"
    world.alice.notify_by_sms = True
    world.alice_customer.gender = Gender.MALE
    db.session.commit()
    return world.alice


def test_digest_and_reminder_go_to_the_staff_members_phone_when_asked(world, by_sms):
    plan(world.alice_customer)
    visit = plan(world.alice_customer, TODAY + timedelta(days=1))
    send_morning_digest(TODAY)
    send_visit_reminders(TODAY)
    send_morning_digest(TODAY)
    send_visit_reminders(TODAY)
    digest, reminder = staff_messages()
    assert digest.idempotency_key == f"digest-sms:{by_sms.id}:2026-11-23"
    assert (digest.recipient, digest.staff_id, digest.channel) == (by_sms.phone, by_sms.id, "sms")
    assert digest.customer_id is None and "今日 1" in digest.body and len(digest.body) <= 70
    assert "张伟" not in digest.body  # counts only: it goes to a phone
    assert reminder.idempotency_key == f"visit-sms:{visit.id}"
    assert "张先生" in reminder.body and "张伟" not in reminder.body


def test_no_sms_without_the_switch(world, by_sms):
    by_sms.notify_by_sms = False
    db.session.commit()
    plan(world.alice_customer)
    plan(world.alice_customer, TODAY + timedelta(days=1))
    assert send_morning_digest(TODAY) == 1
    assert send_visit_reminders(TODAY) == 1
    assert staff_messages() == []


def test_e_mail_copy_carries_the_whole_digest(world):
    world.alice.email = "alice@bank.example"
    world.alice.notify_by_email = True
    db.session.commit()
    plan(world.alice_customer)
    send_morning_digest(TODAY)
    [message] = staff_messages()
    assert message.channel == "email" and message.recipient == "alice@bank.example"
    assert message.idempotency_key == f"digest-email:{world.alice.id}:2026-11-23"
    assert "张伟" in message.body


def test_unread_count_and_mark_read_touch_only_ones_own(world):
    plan(world.alice_customer)
    plan(world.bob_customer)
    send_morning_digest(TODAY)
    [alices] = notes_for(world.alice)
    assert unread_count(world.alice) == 1
    assert mark_read(world.bob, [alices.id]) == 0
    assert unread_count(world.alice) == 1
    assert mark_read(world.alice, [alices.id]) == 1
    db.session.commit()
    assert unread_count(world.alice) == 0
    assert unread_count(world.bob) == 1
    assert mark_read(world.bob) == 1
    assert [n.id for n in notifications_for(world.alice)] == [alices.id]


def test_a_reminder_by_sms_never_spells_out_the_customers_name(world, by_sms):
    stranger = make_customer(world.alice, "欧阳娜娜", "+8613700005555")
    plan(stranger, TODAY + timedelta(days=1))
    send_visit_reminders(TODAY)
    [message] = staff_messages()
    assert "欧***" in message.body
    assert "欧阳娜娜" not in message.body
