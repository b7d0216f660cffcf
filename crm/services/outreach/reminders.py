"""Reminders the day before each visit or event, to the customer's owner (a scheduler job).

One reminder per experience (its key is the experience's), so a run repeated after a crash
or a takeover reminds nobody twice. The copy to a phone names the customer only by a short
form: it shows on a lock screen.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _

from crm.core.clock import local_today
from crm.core.dates import date_text
from crm.extensions import db
from crm.labels import TOUCHPOINT
from crm.models import Customer, Experience, GroupEvent, Staff
from crm.models.base import utcnow
from crm.models.enums import ExperienceStatus, NotificationKind, Touchpoint
from crm.services.outreach import inbox, sms_templates

log = logging.getLogger(__name__)

# Where a reminder leads (a path, not a URL: the scheduler has no request to build one from).
DOSSIER_LINK = "/customers/{customer_id}"

NOTES_IN_REMINDER = 300
REMINDER_BATCH = 1_000


def reminder_key(experience_id: int) -> str:
    return f"visit:{experience_id}"


def short_name(customer: Customer, locale: str) -> str:
    """How a message to a phone names a customer: 张先生 where the gender is known, else 张*;
    enough for the staff member to recognise, not the full name on a lock screen."""
    greeting = sms_templates.greeting(customer, locale)
    name = customer.name.strip()
    if greeting != name or len(name) < 2:
        return greeting
    return name[0] + "*" * (len(name) - 1)


def render_reminder(
    staff: Staff, experience: Experience, customer: Customer, event: GroupEvent | None
) -> inbox.Message:
    """The reminder the day before a visit or event, in the staff member's language.

    The SMS names the customer only by ``short_name``: it shows on a lock screen."""
    locale = inbox.locale_of(staff)
    with force_locale(locale):
        category = TOUCHPOINT[experience.category]
        when = date_text(experience.due_on)
        title = _("Tomorrow: %(name)s (%(category)s)", name=customer.name, category=category)
        lines = [
            _(
                "%(category)s with %(name)s on %(date)s.",
                category=category,
                name=customer.name,
                date=when,
            )
        ]
        if event is not None:
            lines.append(_("Event: %(title)s, %(place)s", title=event.title, place=event.place))
        if experience.notes:
            notes = experience.notes.strip()
            if len(notes) > NOTES_IN_REMINDER:
                notes = notes[:NOTES_IN_REMINDER] + "…"
            lines.append(_("Notes: %(notes)s", notes=notes))
        sms = _(
            "Tomorrow, %(date)s: %(category)s with %(greeting)s. Details in the CRM.",
            date=when,
            category=category,
            greeting=short_name(customer, locale),
        )
        return inbox.Message(title=title[: inbox.TITLE_LIMIT], body="\n".join(lines), sms=sms)


def _visits_due(tomorrow: date, after_id: int) -> list[sa.Row]:
    """The next batch of planned visits and events due ``tomorrow`` whose owner has an active
    account, in id order from ``after_id``: (experience, customer, owner, event or None)."""
    return db.session.execute(
        sa.select(Experience, Customer, Staff, GroupEvent)
        .join(Customer, Customer.id == Experience.customer_id)
        .join(Staff, Staff.id == Customer.owner_id)
        .outerjoin(GroupEvent, GroupEvent.id == Experience.group_event_id)
        .where(
            Experience.id > after_id,
            Experience.status == ExperienceStatus.PLANNED,
            Experience.category != Touchpoint.ROUTINE,
            Experience.due_on == tomorrow,
            Staff.is_active_account.is_(True),
        )
        .order_by(Experience.id)
        .limit(REMINDER_BATCH)
    ).all()


def _reminders_for(batch: list[sa.Row]) -> dict[str, tuple[Staff, inbox.Message, str]]:
    """Each visit's reminder under its key, with the reader and where it leads."""
    messages: dict[str, tuple[Staff, inbox.Message, str]] = {}
    for experience, customer, staff, event in batch:
        try:
            message = render_reminder(staff, experience, customer, event)
        except Exception:  # one reminder never stops the others
            log.exception("Reminder for experience %s could not be written", experience.id)
            continue
        link = DOSSIER_LINK.format(customer_id=customer.id)
        messages[reminder_key(experience.id)] = (staff, message, link)
    return messages


def send_visit_reminders(today: date | None = None, *, now: datetime | None = None) -> int:
    """A reminder to the customer's owner the day before each planned visit or event (not
    routine SMS), and its copies by SMS or e-mail where switched on. Idempotent; commits per
    batch. Returns how many reminders were created."""
    today = today or local_today()
    now = now or utcnow()
    tomorrow = today + timedelta(days=1)
    created = 0
    last_id = 0
    while batch := _visits_due(tomorrow, last_id):
        last_id = batch[-1][0].id
        created += inbox.post(NotificationKind.VISIT_REMINDER, _reminders_for(batch), now)
        db.session.commit()
    return created
