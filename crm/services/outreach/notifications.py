"""Notifications (通知) for staff: the morning digest (每日提醒) and a reminder before each visit.

Both are scheduler jobs. Every notification has an idempotency key (one digest per staff
member and day, one reminder per experience), so a job that runs twice, or two schedulers at
once, creates nothing twice. Where a staff member has switched it on, a short copy also goes
to their own phone or e-mail through the outbox, under its own key, in the same transaction.

The digest is assembled from providers, one per kind of work: the visits and events of the
agenda, complaints near or past their answer's due time, and maturity call-backs. Each
provider answers for all staff at once with one query, so the digest of a bank with hundreds
of staff and a million customers costs a few queries, not hundreds.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import LazyString, force_locale, format_date, format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from crm.core import reads
from crm.core.clock import business_zone, local_today
from crm.core.idempotent import insert_new
from crm.extensions import db
from crm.labels import TOUCHPOINT
from crm.models import (
    Complaint,
    Customer,
    Experience,
    GroupEvent,
    MaturityCallback,
    Notification,
    Policy,
    Staff,
)
from crm.models.base import utcnow
from crm.models.enums import ExperienceStatus, NotificationKind, Touchpoint
from crm.services.followup import calls
from crm.services.outreach import outbox, sms_templates
from crm.services.planning import agenda

log = logging.getLogger(__name__)

# Where a notification leads (paths, not URLs: the scheduler has no request to build one from).
AGENDA_LINK = "/agenda"
DOSSIER_LINK = "/customers/{customer_id}"

# A section lists this many items by name; the rest are counted ("and 12 more").
LINES_PER_SECTION = 10
NOTES_IN_REMINDER = 300
STAFF_BATCH = 500
REMINDER_BATCH = 1_000
TITLE_LIMIT = 200  # Notification.title


def digest_key(staff_id: int, day: date) -> str:
    return f"digest:{staff_id}:{day.isoformat()}"


def reminder_key(experience_id: int) -> str:
    return f"visit:{experience_id}"


def locale_of(staff: Staff) -> str:
    """The language a staff member reads notifications in: their choice, else Chinese."""
    return staff.language or "zh_CN"


# --- digest sections and their providers -----------------------------------------------------


@dataclass
class Section:
    """One part of a staff member's digest: a heading, how many items, the first few lines.

    Texts are lazy strings, rendered in the reader's language when the digest is written.
    """

    heading: LazyString
    count: int = 0
    lines: list[LazyString] = field(default_factory=list)

    def add(self, line: LazyString) -> None:
        self.count += 1
        if len(self.lines) < LINES_PER_SECTION:
            self.lines.append(line)


# A provider gets the ids of the staff to write to (a select) and the day, and answers with
# each staff member's sections. Call-backs and complaints near their SLA join as providers.
DigestProvider = Callable[[sa.Select, date], Mapping[int, Sequence[Section]]]


def _experience_line(
    name: str, category: Touchpoint, event: str | None, due_on: date | None
) -> LazyString:
    def render() -> str:
        what = TOUCHPOINT[category]
        if event:
            what = _("%(category)s: %(event)s", category=what, event=event)
        if due_on is None:
            return _("%(name)s — %(what)s", name=name, what=what)
        return _(
            "%(name)s — %(what)s, due %(date)s",
            name=name,
            what=what,
            date=format_date(due_on, "medium"),
        )

    return LazyString(render)


def agenda_sections(recipients: sa.Select, today: date) -> dict[int, list[Section]]:
    """The top of each staff member's agenda: visits and events due today, and overdue ones.

    The agenda's rule (``agenda.agenda``): planned, non-routine experiences with the
    customers the staff member owns. One query for all staff, streamed.
    """
    rows = db.session.execute(
        sa.select(
            Customer.owner_id,
            Customer.name,
            Experience.category,
            Experience.due_on,
            GroupEvent.title,
        )
        .join(Customer, Customer.id == Experience.customer_id)
        .outerjoin(GroupEvent, GroupEvent.id == Experience.group_event_id)
        .where(
            Customer.owner_id.in_(recipients),
            agenda.on_agenda(),
            Experience.due_on <= today,
        )
        .order_by(Customer.owner_id, Experience.due_on, Experience.id)
        .execution_options(yield_per=2_000)
    )
    found: dict[int, tuple[Section, Section]] = {}
    for owner_id, name, category, due_on, event in rows:
        if owner_id not in found:
            found[owner_id] = (Section(_l("Today")), Section(_l("Overdue")))
        due_today, overdue = found[owner_id]
        if due_on == today:
            due_today.add(_experience_line(name, category, event, None))
        else:
            overdue.add(_experience_line(name, category, event, due_on))
    return {owner_id: list(sections) for owner_id, sections in found.items()}


def callback_sections(recipients: sa.Select, today: date) -> dict[int, list[Section]]:
    """The maturity call-backs each staff member owes, most urgent first, with the day's
    quota (满期回访, seed 003)."""
    rows = db.session.execute(
        sa.select(
            Customer.owner_id, Customer.name, Policy.policy_number, MaturityCallback.maturity_date
        )
        .select_from(MaturityCallback)
        .join(Customer, Customer.id == MaturityCallback.customer_id)
        .join(Policy, Policy.id == MaturityCallback.policy_id)
        .where(Customer.owner_id.in_(recipients), MaturityCallback.recorded_at.is_(None))
        .order_by(Customer.owner_id, MaturityCallback.maturity_date, MaturityCallback.id)
        .execution_options(yield_per=2_000)
    )
    quota = calls.daily_quota()
    found: dict[int, Section] = {}
    for owner_id, name, number, maturity in rows:
        if owner_id not in found:
            found[owner_id] = Section(_l("Maturity call-backs (at least %(n)d today)", n=quota))
        found[owner_id].add(_callback_line(name, number, maturity))
    return {owner_id: [section] for owner_id, section in found.items()}


def _callback_line(name: str, number: str, maturity: date) -> LazyString:
    return LazyString(
        lambda: _(
            "%(name)s — policy %(number)s matures %(date)s",
            name=name,
            number=number,
            date=format_date(maturity, "medium"),
        )
    )


def complaint_sections(recipients: sa.Select, today: date) -> dict[int, list[Section]]:
    """Complaints awaiting a definite answer that are overdue or due by tomorrow's end."""
    zone = business_zone()
    after_tomorrow = today + timedelta(days=2)
    horizon = datetime(after_tomorrow.year, after_tomorrow.month, after_tomorrow.day, tzinfo=zone)
    now = utcnow()
    rows = db.session.execute(
        sa.select(Customer.owner_id, Customer.name, Complaint.due_at)
        .select_from(Complaint)
        .join(Customer, Customer.id == Complaint.customer_id)
        .where(
            Customer.owner_id.in_(recipients),
            Complaint.answered_at.is_(None),
            Complaint.due_at < horizon,
        )
        .order_by(Customer.owner_id, Complaint.due_at, Complaint.id)
        .execution_options(yield_per=2_000)
    )
    found: dict[int, tuple[Section, Section]] = {}
    for owner_id, name, due_at in rows:
        if owner_id not in found:
            found[owner_id] = (Section(_l("Complaints overdue")), Section(_l("Complaints due")))
        overdue, due = found[owner_id]
        line = _complaint_line(name, due_at.astimezone(zone))
        (overdue if due_at < now else due).add(line)
    return {k: [s for s in sections if s.count] for k, sections in found.items()}


def _complaint_line(name: str, due: datetime) -> LazyString:
    return LazyString(
        lambda: _(
            "%(name)s — answer due %(when)s",
            name=name,
            when=format_datetime(due, "short"),
        )
    )


DIGEST_PROVIDERS: tuple[DigestProvider, ...] = (
    agenda_sections,
    complaint_sections,
    callback_sections,
)


# --- writing notifications ---------------------------------------------------------------


@dataclass
class Message:
    """A notification as its reader sees it, and the short copies for their phone and e-mail."""

    title: str
    body: str
    sms: str

    @property
    def email(self) -> str:
        return f"{self.title}\n\n{self.body}"


def _insert_ignoring_duplicates(rows: list[dict]) -> set[str]:
    """Insert notifications; one whose key exists is left as it is. Returns the new keys."""
    return set(insert_new(Notification.__table__, rows))


def _copy_to_phone_and_email(staff: Staff, key: str, message: Message, now: datetime) -> None:
    """Queue copies to the staff member's own phone and e-mail, where they switched it on.

    Their keys follow the notification's: ``digest:7:2026-11-23`` → ``digest-sms:7:2026-11-23``.
    """
    kind, rest = key.split(":", 1)
    if staff.notify_by_sms and staff.phone:
        outbox.enqueue_staff_message(staff, f"{kind}-sms:{rest}", message.sms, now=now)
    if staff.notify_by_email and staff.email:
        outbox.enqueue_staff_message(
            staff, f"{kind}-email:{rest}", message.email, channel="email", now=now
        )


def _chunks(items: Sequence, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def render_digest(staff: Staff, sections: Sequence[Section]) -> Message:
    """The digest in the staff member's language."""
    with force_locale(locale_of(staff)):
        summary = " · ".join(_("%(heading)s %(n)d", heading=s.heading, n=s.count) for s in sections)
        title = _("Your morning digest: %(summary)s", summary=summary)[:TITLE_LIMIT]
        parts = []
        for section in sections:
            parts.append(_("%(heading)s (%(n)d)", heading=section.heading, n=section.count))
            parts.extend(f"· {line}" for line in section.lines)
            if section.count > len(section.lines):
                parts.append(_("… and %(n)d more", n=section.count - len(section.lines)))
        sms = _("%(summary)s. Details in your agenda.", summary=summary)
        return Message(title=title, body="\n".join(parts), sms=sms)


def send_morning_digest(
    today: date | None = None,
    *,
    providers: Sequence[DigestProvider] = DIGEST_PROVIDERS,
    now: datetime | None = None,
) -> int:
    """The morning digest (每日提醒): one notification per active staff member with work due,
    and its copies by SMS or e-mail where switched on. Idempotent; commits per batch of staff.
    Returns how many digests were created."""
    today = today or local_today()
    now = now or utcnow()
    recipients = sa.select(Staff.id).where(Staff.is_active_account.is_(True))
    sections: dict[int, list[Section]] = {}
    for provider in providers:
        for staff_id, found in provider(recipients, today).items():
            sections.setdefault(staff_id, []).extend(s for s in found if s.count)
    staff_ids = sorted(staff_id for staff_id, found in sections.items() if found)

    created = 0
    for batch in _chunks(staff_ids, STAFF_BATCH):
        members = db.session.scalars(sa.select(Staff).where(Staff.id.in_(batch))).all()
        messages: dict[str, tuple[Staff, Message]] = {}
        for member in members:
            try:
                messages[digest_key(member.id, today)] = (
                    member,
                    render_digest(member, sections[member.id]),
                )
            except Exception:  # one staff member's digest never stops the others'
                log.exception("Morning digest for staff %s could not be written", member.id)
        new = _insert_ignoring_duplicates(
            [
                {
                    "staff_id": member.id,
                    "kind": NotificationKind.DIGEST,
                    "idempotency_key": key,
                    "title": message.title,
                    "body": message.body,
                    "link": AGENDA_LINK,
                    "created_at": now,
                }
                for key, (member, message) in messages.items()
            ]
        )
        for key in sorted(new):
            member, message = messages[key]
            _copy_to_phone_and_email(member, key, message, now)
        db.session.commit()
        created += len(new)
    return created


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
) -> Message:
    """The reminder the day before a visit or event, in the staff member's language.

    The SMS names the customer only by ``short_name``: it shows on a lock screen."""
    locale = locale_of(staff)
    with force_locale(locale):
        category = TOUCHPOINT[experience.category]
        when = format_date(experience.due_on, "medium")
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
        return Message(title=title[:TITLE_LIMIT], body="\n".join(lines), sms=sms)


def send_visit_reminders(today: date | None = None, *, now: datetime | None = None) -> int:
    """A reminder to the customer's owner the day before each planned visit or event (not
    routine SMS), and its copies by SMS or e-mail where switched on. Idempotent; commits per
    batch. Returns how many reminders were created."""
    today = today or local_today()
    now = now or utcnow()
    tomorrow = today + timedelta(days=1)
    created = 0
    last_id = 0
    while True:
        batch = db.session.execute(
            sa.select(Experience, Customer, Staff, GroupEvent)
            .join(Customer, Customer.id == Experience.customer_id)
            .join(Staff, Staff.id == Customer.owner_id)
            .outerjoin(GroupEvent, GroupEvent.id == Experience.group_event_id)
            .where(
                Experience.id > last_id,
                Experience.status == ExperienceStatus.PLANNED,
                Experience.category != Touchpoint.ROUTINE,
                Experience.due_on == tomorrow,
                Staff.is_active_account.is_(True),
            )
            .order_by(Experience.id)
            .limit(REMINDER_BATCH)
        ).all()
        if not batch:
            break
        last_id = batch[-1][0].id
        messages: dict[str, tuple[Staff, Message, int]] = {}
        for experience, customer, staff, event in batch:
            try:
                message = render_reminder(staff, experience, customer, event)
            except Exception:  # one reminder never stops the others
                log.exception("Reminder for experience %s could not be written", experience.id)
                continue
            messages[reminder_key(experience.id)] = (staff, message, customer.id)
        new = _insert_ignoring_duplicates(
            [
                {
                    "staff_id": staff.id,
                    "kind": NotificationKind.VISIT_REMINDER,
                    "idempotency_key": key,
                    "title": message.title,
                    "body": message.body,
                    "link": DOSSIER_LINK.format(customer_id=customer_id),
                    "created_at": now,
                }
                for key, (staff, message, customer_id) in messages.items()
            ]
        )
        for key in sorted(new):
            staff, message, _customer_id = messages[key]
            _copy_to_phone_and_email(staff, key, message, now)
        db.session.commit()
        created += len(new)
    return created


# --- reading them ------------------------------------------------------------------------


@functools.cache
def _unread_statement() -> sa.Select:
    return (
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.staff_id == sa.bindparam("staff_id"), Notification.read_at.is_(None))
    )


def unread_count(staff: Staff) -> int:
    """What the navigation shows on every page, so a statement built once."""
    return reads.scalar(_unread_statement(), staff_id=staff.id)


def notifications_for(
    staff: Staff, limit: int = 50, before: int | None = None
) -> list[Notification]:
    """A staff member's notifications, newest first (``before``: older than that id)."""
    query = sa.select(Notification).where(Notification.staff_id == staff.id)
    if before is not None:
        query = query.where(Notification.id < before)
    return list(db.session.scalars(query.order_by(Notification.id.desc()).limit(limit)))


def mark_read(staff: Staff, ids: Collection[int] | None = None, now: datetime | None = None) -> int:
    """Mark the staff member's own notifications read (``ids`` None: all of them); nobody
    else's are touched. Returns how many changed. The caller commits."""
    query = sa.update(Notification).where(
        Notification.staff_id == staff.id, Notification.read_at.is_(None)
    )
    if ids is not None:
        query = query.where(Notification.id.in_(list(ids)))
    result = db.session.execute(
        query.values(read_at=now or utcnow()).execution_options(synchronize_session=False)
    )
    return result.rowcount
