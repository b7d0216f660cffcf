"""The morning digest (每日提醒): each staff member's work for the day, in one notification.

A scheduler job, idempotent: one digest per staff member and day (``inbox``), copied to their
phone or e-mail where they switched it on.

The digest is assembled from providers, one per kind of work: the visits and events of the
agenda, complaints near or past their answer's due time, and maturity call-backs. Each
provider answers for all staff at once with one query, so the digest of a bank with hundreds
of staff and a million customers costs a few queries, not hundreds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import LazyString, force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from crm.core.clock import business_zone, local_today
from crm.core.dates import date_text, time_text
from crm.extensions import db
from crm.labels import TOUCHPOINT
from crm.models import (
    ApprovalRequest,
    ApprovalStatus,
    ChurnScoreDay,
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
from crm.models.enums import ChurnLevel, NotificationKind, RelationshipStatus, Role, Touchpoint
from crm.services.followup import calls
from crm.services.outreach import inbox
from crm.services.planning import agenda

log = logging.getLogger(__name__)

# Where a digest leads (a path, not a URL: the scheduler has no request to build one from).
AGENDA_LINK = "/agenda"

# A section lists this many items by name; the rest are counted ("and 12 more").
LINES_PER_SECTION = 10
STAFF_BATCH = 500


def digest_key(staff_id: int, day: date) -> str:
    return f"digest:{staff_id}:{day.isoformat()}"


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
            date=date_text(due_on),
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
            date=date_text(maturity),
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
            when=time_text(due),
        )
    )


def _last_digest_day(today: date) -> date:
    """The day of the last digest before today's (yesterday when there was none)."""
    zone = business_zone()
    start = datetime(today.year, today.month, today.day, tzinfo=zone)
    last = db.session.scalar(
        sa.select(sa.func.max(Notification.created_at)).where(
            Notification.kind == NotificationKind.DIGEST, Notification.created_at < start
        )
    )
    return last.astimezone(zone).date() if last else today - timedelta(days=1)


def churn_sections(recipients: sa.Select, today: date) -> dict[int, list[Section]]:
    """Customers whose churn risk became high since the last digest and is high still (流失
    预警; the nightly ``churn_score`` job writes a history row on each day a score changes)."""
    rose = (
        sa.select(ChurnScoreDay.customer_id)
        .where(
            ChurnScoreDay.scored_on > _last_digest_day(today),
            ChurnScoreDay.scored_on <= today,
            ChurnScoreDay.level == ChurnLevel.HIGH,
            sa.or_(
                ChurnScoreDay.previous_level.is_(None),
                ChurnScoreDay.previous_level != ChurnLevel.HIGH,
            ),
        )
        .distinct()
    )
    rows = db.session.execute(
        sa.select(Customer.owner_id, Customer.name, Customer.churn_score)
        .where(
            Customer.id.in_(rose),
            Customer.owner_id.in_(recipients),
            Customer.churn_level == ChurnLevel.HIGH,
            Customer.relationship_status != RelationshipStatus.LOST,
        )
        .order_by(Customer.owner_id, Customer.churn_score.desc(), Customer.id)
        .execution_options(yield_per=2_000)
    )
    found: dict[int, Section] = {}
    for owner_id, name, score in rows:
        if owner_id not in found:
            found[owner_id] = Section(_l("Became high churn risk"))
        found[owner_id].add(_churn_line(name, score))
    return {owner_id: [section] for owner_id, section in found.items()}


def _churn_line(name: str, score: int) -> LazyString:
    return LazyString(lambda: _("%(name)s — churn risk %(score)d", name=name, score=score))


def approval_sections(recipients: sa.Select, today: date) -> dict[int, list[Section]]:
    """Approval requests waiting for each branch manager's decision, oldest first
    (crm.services.management.approvals)."""
    rows = db.session.execute(
        sa.select(Staff.id, Customer.name, ApprovalRequest.category)
        .select_from(ApprovalRequest)
        .join(Staff, Staff.branch_id == ApprovalRequest.branch_id)
        .join(Customer, Customer.id == ApprovalRequest.customer_id)
        .where(
            Staff.id.in_(recipients),
            Staff.role == Role.MANAGER,
            ApprovalRequest.status == ApprovalStatus.PENDING,
            ApprovalRequest.requested_by_id != Staff.id,
        )
        .order_by(Staff.id, ApprovalRequest.id)
    )
    found: dict[int, Section] = {}
    for manager_id, name, category in rows:
        if manager_id not in found:
            found[manager_id] = Section(_l("Approval requests waiting"))
        found[manager_id].add(_experience_line(name, category, None, None))
    return {manager_id: [section] for manager_id, section in found.items()}


DIGEST_PROVIDERS: tuple[DigestProvider, ...] = (
    agenda_sections,
    complaint_sections,
    callback_sections,
    churn_sections,
    approval_sections,
)


# --- writing the digest ----------------------------------------------------------------------


def _chunks(items: Sequence, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def render_digest(staff: Staff, sections: Sequence[Section]) -> inbox.Message:
    """The digest in the staff member's language."""
    with force_locale(inbox.locale_of(staff)):
        summary = " · ".join(_("%(heading)s %(n)d", heading=s.heading, n=s.count) for s in sections)
        title = _("Your morning digest: %(summary)s", summary=summary)[: inbox.TITLE_LIMIT]
        parts = []
        for section in sections:
            parts.append(_("%(heading)s (%(n)d)", heading=section.heading, n=section.count))
            parts.extend(f"· {line}" for line in section.lines)
            if section.count > len(section.lines):
                parts.append(_("… and %(n)d more", n=section.count - len(section.lines)))
        sms = _("%(summary)s. Details in your agenda.", summary=summary)
        return inbox.Message(title=title, body="\n".join(parts), sms=sms)


def _sections_by_staff(
    providers: Sequence[DigestProvider], today: date
) -> dict[int, list[Section]]:
    """Every active staff member's non-empty sections, in the order of ``providers``."""
    recipients = sa.select(Staff.id).where(Staff.is_active_account.is_(True))
    sections: dict[int, list[Section]] = {}
    for provider in providers:
        for staff_id, found in provider(recipients, today).items():
            sections.setdefault(staff_id, []).extend(s for s in found if s.count)
    return {staff_id: found for staff_id, found in sections.items() if found}


def _digests_for(
    members: Sequence[Staff], sections: Mapping[int, Sequence[Section]], today: date
) -> dict[str, tuple[Staff, inbox.Message, str]]:
    """Each staff member's digest under its key, with the reader and where it leads."""
    messages: dict[str, tuple[Staff, inbox.Message, str]] = {}
    for member in members:
        try:
            message = render_digest(member, sections[member.id])
        except Exception:  # one staff member's digest never stops the others'
            log.exception("Morning digest for staff %s could not be written", member.id)
            continue
        messages[digest_key(member.id, today)] = (member, message, AGENDA_LINK)
    return messages


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
    sections = _sections_by_staff(providers, today)
    created = 0
    for batch in _chunks(sorted(sections), STAFF_BATCH):
        members = db.session.scalars(sa.select(Staff).where(Staff.id.in_(batch))).all()
        messages = _digests_for(members, sections, today)
        created += inbox.post(NotificationKind.DIGEST, messages, now)
        db.session.commit()
    return created
