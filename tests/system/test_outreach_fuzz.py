"""Shows it (outreach): a month of fuzzed plans and clocks, and no SMS goes out outside the
window, over the weekly cap, without consent or after an opt-out; none due is lost.

Each simulated day, in the order of its clock: customers agree to SMS, withdraw their
consent at the counter, reply an opt-out word (or something else); the rolling planner
fills the next four weeks and staff add routine contacts of their own (more than the cap
allows, some for customers who may not get SMS); the day's due contacts are queued; and the
dispatcher runs at random times of day and night and at the edges of the window (08:59,
09:00, 19:59, 20:00 local). Each send is noted with the simulated clock, and the month is
checked against the rules afterwards.

``CRM_FUZZ_SEED`` replays a month (the seed is printed).
"""

from __future__ import annotations

import os
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from crm.extensions import db
from crm.models import Customer, Experience, OutboxMessage
from crm.models.enums import ExperienceStatus, MessagePurpose, OutboxStatus, PlanOrigin, Touchpoint
from crm.providers.console import ConsoleProvider
from crm.services.outreach import sms_replies, sms_rules
from crm.services.outreach.dispatch import dispatch
from crm.services.outreach.enqueue import enqueue_due
from crm.services.planning import planner
from tests.support.factories import make_customer

SEED = int(os.environ.get("CRM_FUZZ_SEED", "4"))
ZONE = ZoneInfo("Asia/Shanghai")
START = date(2026, 12, 1)
DAYS = 30
CUSTOMERS = 24
WEEK = timedelta(days=7)
EDGES = (time(8, 59), time(8, 59, 59), time(9, 0), time(19, 59), time(19, 59, 59), time(20, 0))
OPT_OUTS = ("R", "TD", "退订", "回复R", " td。", "STOP")
OTHER_REPLIES = ("好的谢谢", "明天见", "RT")


def local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=ZONE).astimezone(UTC)


def random_time(rng: random.Random, earliest: time = time(0), latest: time = time(23, 59, 59)):
    low = earliest.hour * 3600 + earliest.minute * 60 + earliest.second
    high = latest.hour * 3600 + latest.minute * 60 + latest.second
    seconds = rng.randint(low, high)
    return time(seconds // 3600, seconds // 60 % 60, seconds % 60)


@dataclass
class Send:
    key: str
    to: str
    at: datetime
    provider_id: str


class Recorder(ConsoleProvider):
    """The console provider, noting the simulated clock of each send."""

    def __init__(self, path):
        super().__init__(path)
        self.now: datetime | None = None
        self.sends: list[Send] = []

    def send(self, to: str, body: str, key: str) -> str:
        provider_id = super().send(to, body, key)
        self.sends.append(Send(key, to, self.now, provider_id))
        return provider_id


@dataclass
class Consent:
    """A customer's consent over time: (from when, may receive marketing SMS)."""

    changes: list[tuple[datetime, bool]] = field(default_factory=list)

    def at(self, when: datetime) -> bool:
        state = False
        for since, value in self.changes:
            if since > when:
                break
            state = value
        return state

    def ever_withheld_after(self, when: datetime) -> bool:
        return not self.at(when) or any(not v for since, v in self.changes if since > when)


def customer_events(rng: random.Random, customers: list[Customer]) -> list[tuple]:
    """(when, order, action, customer): consents, withdrawals and replies through the month."""
    events = []

    def moment(first_day: int = 0) -> tuple[int, datetime]:
        day = rng.randint(first_day, DAYS - 1)
        return day, local(START + timedelta(days=day), random_time(rng))

    for customer in customers:
        consenting = bool(customer.sms_consent)
        day = 0
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            if day >= DAYS:
                break
            day, when = moment(day)
            action = rng.choice(("reply", "reply", "withdraw")) if consenting else "consent"
            events.append((when, 0, action, customer))
            consenting = action == "consent"
            day += 1
        if rng.random() < 0.3:
            events.append((moment()[1], 0, "chat", customer))
    return events


def extra_contacts(rng: random.Random, customers: list[Customer], day: date) -> None:
    """Routine contacts staff add by hand: more than the cap allows, for anyone."""
    for customer in rng.sample(customers, rng.randint(0, 6)):
        db.session.add(
            Experience(
                customer_id=customer.id,
                category=Touchpoint.ROUTINE,
                status=ExperienceStatus.PLANNED,
                origin=PlanOrigin.STAFF,
                due_on=day + timedelta(days=rng.randint(0, 2)),
                planned_cost=Decimal("0.10"),
            )
        )


def test_a_fuzzed_month_keeps_the_sms_rules(world, tmp_path):
    rng = random.Random(SEED)
    print(f"CRM_FUZZ_SEED={SEED}")
    before = local(START, time(0)) - timedelta(days=60)
    customers = [world.alice_customer, world.bob_customer, world.carol_customer]
    for i in range(CUSTOMERS):
        agreed = rng.random() < 0.6
        customers.append(
            make_customer(
                rng.choice((world.alice, world.bob, world.carol)),
                f"客户{i:02d}",
                f"+86137{i:08d}",
                sms_consent=agreed,
                sms_consent_at=before if agreed else None,
            )
        )
    db.session.commit()
    consent = {c.id: Consent([(before, sms_rules.may_receive_marketing(c))]) for c in customers}
    phones = {c.phone: c.id for c in customers}

    actions = customer_events(rng, customers)
    for offset in range(DAYS):
        day = START + timedelta(days=offset)
        # Planning at any hour, often just before the window opens or closes, so that a
        # dispatch at its edge finds messages due.
        planned_at = rng.choice(
            (
                random_time(rng),
                random_time(rng, time(8, 58), time(8, 59, 58)),
                random_time(rng, time(19, 58), time(19, 59, 58)),
            )
        )
        actions.append((local(day, planned_at), 1, "plan", day))
        times = [at for at in EDGES if rng.random() < 0.5]
        times += [random_time(rng) for _ in range(rng.randint(1, 4))]
        actions.extend((local(day, at), 2, "dispatch", None) for at in times)
    actions.sort(key=lambda a: (a[0], a[1]))

    recorder = Recorder(tmp_path / "sms.jsonl")
    summaries = Counter()
    last_dispatch = None
    for when, _, action, subject in actions:
        if action == "plan":
            planner.plan_contacts(subject + timedelta(days=28), today=subject)
            extra_contacts(rng, customers, subject)
            db.session.commit()
            enqueue_due(subject, when)
        elif action == "dispatch":
            recorder.now = when
            summary = dispatch(when, provider=recorder, batch=rng.choice((1, 3, 50)))
            summaries.update(sent=summary.sent, skipped=summary.skipped, deferred=summary.deferred)
            summaries.update(failed=summary.failed, reconciled=sum(summary.reconciled.values()))
            if sms_rules.in_window(when):
                last_dispatch = when
        elif action in ("reply", "chat"):
            words = OPT_OUTS if action == "reply" else OTHER_REPLIES
            opted_out = sms_replies.record_reply(subject.phone, rng.choice(words), when)
            db.session.commit()
            if action == "reply":
                assert opted_out is not None and opted_out.id == subject.id
                consent[subject.id].changes.append((when, False))
            else:
                assert opted_out is None
        else:  # consent given or withdrawn at the counter (as the dossier form records it)
            subject.sms_consent = action == "consent"
            if action == "consent":
                subject.sms_consent_at, subject.sms_opt_out_at = when, None
            else:
                subject.sms_opt_out_at = when
            db.session.commit()
            consent[subject.id].changes.append((when, action == "consent"))
    recorder.close()

    db.session.expire_all()
    messages = list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))
    routine = list(
        db.session.scalars(
            sa.select(Experience).where(
                Experience.category == Touchpoint.ROUTINE,
                Experience.due_on < START + timedelta(days=DAYS),
            )
        )
    )
    print(f"seed {SEED}: {dict(summaries)}, {len(messages)} messages, {len(routine)} contacts")
    assert summaries["failed"] == summaries["reconciled"] == 0

    sends = recorder.sends
    by_key = {m.idempotency_key: m for m in messages}
    assert len({s.key for s in sends}) == len(sends), "a message was sent twice"
    assert {s.key for s in sends} == {
        m.idempotency_key for m in messages if m.status == OutboxStatus.SENT
    }
    for send in sends:
        message = by_key[send.key]
        assert message.purpose == MessagePurpose.MARKETING
        assert (message.sent_at, message.provider_message_id) == (send.at, send.provider_id)
        customer = phones[send.to]
        assert customer == message.customer_id
        hour = send.at.astimezone(ZONE).time()
        assert time(9) <= hour < time(20), f"seed {SEED}: sent at {hour} local"
        assert consent[customer].at(send.at), f"seed {SEED}: sent to {send.to} without consent"

    times: dict[int, list[datetime]] = {}
    for send in sorted(sends, key=lambda s: s.at):
        times.setdefault(phones[send.to], []).append(send.at)
    for customer, sent_at in times.items():
        for first, third in zip(sent_at, sent_at[2:], strict=False):
            assert third - first >= WEEK, f"seed {SEED}: three SMS to {customer} within a week"

    # None lost: each message sent, skipped for a customer who withheld consent since it
    # was queued, or still queued because the cap forbade it at the month's last chance.
    statuses = Counter(m.status for m in messages)
    assert set(statuses) <= {OutboxStatus.SENT, OutboxStatus.SKIPPED, OutboxStatus.QUEUED}
    for message in messages:
        history = consent[message.customer_id]
        if message.status == OutboxStatus.SKIPPED:
            assert history.ever_withheld_after(message.created_at), f"seed {SEED}: {message.id}"
        elif message.status == OutboxStatus.QUEUED and message.created_at < last_dispatch:
            recent = [t for t in times.get(message.customer_id, []) if t > last_dispatch - WEEK]
            assert message.not_before > last_dispatch and len(recent) >= 2, (
                f"seed {SEED}: message {message.id} left queued"
            )
    by_experience = {m.experience_id: m for m in messages}
    for experience in routine:
        message = by_experience.get(experience.id)
        history = consent[experience.customer_id]
        if experience.status == ExperienceStatus.DONE:
            assert message.status == OutboxStatus.SENT
            assert experience.held_on == message.sent_at.astimezone(ZONE).date()
        elif experience.status == ExperienceStatus.PLANNED:
            assert message is not None and message.status == OutboxStatus.QUEUED, (
                f"seed {SEED}: contact {experience.id} due {experience.due_on} never queued"
            )
        else:
            assert experience.status == ExperienceStatus.CANCELLED
            assert history.ever_withheld_after(before), f"seed {SEED}: {experience.id}"
            assert message is None or message.status == OutboxStatus.SKIPPED
    # The month pressed every rule.
    assert summaries["sent"] > 50 and summaries["deferred"] and summaries["skipped"]
