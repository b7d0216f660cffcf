"""The outbox: queue planned SMS once, send each once inside the rules, survive crashes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import Experience, OutboxMessage
from crm.models.base import utcnow
from crm.models.enums import ExperienceStatus, Gender, OutboxStatus, PlanOrigin, Touchpoint
from crm.providers.base import Delivery, LookupResult, ProviderError
from crm.providers.console import ConsoleProvider
from crm.services.outreach import sms_rules
from crm.services.outreach.dispatch import _claim, dispatch
from crm.services.outreach.enqueue import enqueue_due
from tests.support.factories import make_customer

# 2026-11-23 10:00 in Shanghai (inside the 09:00–20:00 window), and 22:00 (outside).
MORNING = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
NIGHT = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
TODAY = MORNING.date()


@pytest.fixture
def console(settings, tmp_path):
    settings(CRM_SMS_CONSOLE_PATH=str(tmp_path / "sms.jsonl"))
    provider = ConsoleProvider(tmp_path / "sms.jsonl")
    yield provider
    provider.close()


def routine(customer, due_on=TODAY) -> Experience:
    experience = Experience(
        customer=customer,
        category=Touchpoint.ROUTINE,
        status=ExperienceStatus.PLANNED,
        origin=PlanOrigin.CADENCE,
        due_on=due_on,
        planned_cost=Decimal("0.10"),
    )
    db.session.add(experience)
    db.session.flush()
    return experience


@pytest.fixture
def consenting(world):
    customer = world.alice_customer
    customer.sms_consent = True
    customer.sms_consent_at = utcnow()
    customer.gender = Gender.MALE
    customer.created_at = customer.created_at - timedelta(days=30)
    db.session.commit()
    return customer


def messages() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def test_enqueue_renders_the_template_once_per_planned_contact(consenting, console):
    experience = routine(consenting)
    db.session.commit()
    assert enqueue_due(TODAY, MORNING) == 1
    assert enqueue_due(TODAY, MORNING) == 0
    [message] = messages()
    assert message.idempotency_key == f"experience:{experience.id}"
    assert message.body.startswith("【银保服务】张先生")
    assert message.body.endswith("拒收请回复R")
    assert "Alice" in message.body  # the relationship manager signs
    assert message.recipient == consenting.phone


def test_dispatch_sends_inside_the_window_and_closes_the_experience(consenting, console):
    experience = routine(consenting)
    db.session.commit()
    enqueue_due(TODAY, MORNING)
    summary = dispatch(MORNING, provider=console)
    assert summary.sent == 1
    [message] = messages()
    assert message.status == OutboxStatus.SENT and message.provider == "console"
    [line] = console.sent()
    assert line["id"] == message.provider_message_id and line["key"] == message.idempotency_key
    db.session.refresh(experience)
    assert experience.status == ExperienceStatus.DONE and experience.held_on == TODAY
    # Nothing is sent twice.
    assert dispatch(MORNING + timedelta(minutes=1), provider=console).sent == 0
    assert len(console.sent()) == 1


def test_nothing_goes_to_customers_outside_the_window(consenting, console):
    routine(consenting)
    db.session.commit()
    enqueue_due(TODAY, NIGHT)
    [message] = messages()
    assert message.not_before == datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # 09:00 next day
    assert dispatch(NIGHT, provider=console).sent == 0
    assert dispatch(NIGHT + timedelta(hours=11), provider=console).sent == 1


def test_no_consent_or_opt_out_means_no_sms(consenting, console):
    experience = routine(consenting)
    db.session.commit()
    enqueue_due(TODAY, MORNING)
    consenting.sms_opt_out_at = utcnow()
    db.session.commit()
    summary = dispatch(MORNING, provider=console)
    assert (summary.sent, summary.skipped) == (0, 1)
    assert messages()[0].status == OutboxStatus.SKIPPED and console.sent() == []
    db.session.refresh(experience)
    assert experience.status == ExperienceStatus.CANCELLED


def test_weekly_cap_defers_the_third_message(consenting, console):
    for offset in (0, 1, 2):
        routine(consenting, TODAY - timedelta(days=offset))
    db.session.commit()
    enqueue_due(TODAY, MORNING)
    summary = dispatch(MORNING, provider=console)
    assert (summary.sent, summary.deferred) == (2, 1)
    deferred = [m for m in messages() if m.status == OutboxStatus.QUEUED]
    assert deferred[0].not_before >= MORNING + timedelta(days=7)
    assert dispatch(MORNING + timedelta(days=3), provider=console).sent == 0
    assert dispatch(MORNING + timedelta(days=7), provider=console).sent == 1


class Flaky(ConsoleProvider):
    """Refuses one number, for good or for now."""

    def __init__(self, path, bad: str, permanent: bool):
        super().__init__(path)
        self.bad, self.permanent = bad, permanent

    def send(self, to, body, key):
        if to == self.bad:
            raise ProviderError("refused", permanent=self.permanent)
        return super().send(to, body, key)


@pytest.mark.parametrize("permanent", [True, False])
def test_one_failing_recipient_never_stops_the_batch(world, consenting, console, permanent):
    other = make_customer(world.alice, "钱七", "+8613711112222", sms_consent=True)
    other.created_at = consenting.created_at
    routine(consenting)
    routine(other)
    db.session.commit()
    enqueue_due(TODAY, MORNING)
    flaky = Flaky(console.path, consenting.phone, permanent)
    summary = dispatch(MORNING, provider=flaky)
    assert summary.sent == 1
    failing = next(m for m in messages() if m.recipient == consenting.phone)
    assert failing.status == (OutboxStatus.FAILED if permanent else OutboxStatus.QUEUED)
    assert [line["to"] for line in console.sent()] == [other.phone]


def crash_after_claim(consenting, console, *, delivered: bool) -> OutboxMessage:
    """A dispatcher that died after committing "sending" (and, if ``delivered``, after the
    provider took the message)."""
    routine(consenting)
    db.session.commit()
    enqueue_due(TODAY, MORNING)
    [message] = _claim(MORNING, 10)
    if delivered:
        console.send(message.recipient, message.body, message.idempotency_key)
    return message


@pytest.mark.parametrize("delivered", [True, False])
def test_a_crashed_send_is_reconciled_never_sent_twice(consenting, console, delivered):
    crash_after_claim(consenting, console, delivered=delivered)
    # Too early: another dispatcher may still be working on it.
    assert dispatch(MORNING + timedelta(seconds=30), provider=console).sent == 0
    later = MORNING + timedelta(minutes=10)
    summary = dispatch(later, provider=console)
    [message] = messages()
    assert message.status == OutboxStatus.SENT
    assert len(console.sent()) == 1
    assert summary.reconciled == {"sent" if delivered else "not_sent": 1}


class Forgetful(ConsoleProvider):
    def lookup(self, key, to):
        return Delivery(LookupResult.UNKNOWN)


def test_an_unknown_fate_is_marked_for_a_person(consenting, console):
    crash_after_claim(consenting, console, delivered=False)
    forgetful = Forgetful(console.path)
    dispatch(MORNING + timedelta(minutes=10), provider=forgetful)
    assert messages()[0].status == OutboxStatus.RECONCILE
    assert console.sent() == []


@pytest.mark.parametrize(
    "reply",
    [
        *("R", "r", " TD ", "td。", "Ｔ", "N", "退订", "回复R", "退订短信", "STOP"),
        # As the opt-out lines of the providers put them (拒收请回复R, 退订回T …).
        *("请回复R", "退订R", "拒收请回复R", "退订回T", "回T退订", "回复TD退订", "退订TD", "拒收"),
    ],
)
def test_opt_out_words(reply):
    assert sms_rules.is_opt_out(reply)


@pytest.mark.parametrize(
    "reply",
    ["好的谢谢", "Thanks", "RT", "明天见", "", "回退", "不退订", "TR", "退订了吗？我再想想"],
)
def test_other_replies_are_not_opt_outs(reply):
    assert not sms_rules.is_opt_out(reply)


def test_an_opt_out_reply_takes_effect_at_once(app, settings, consenting, console):
    routine(consenting)
    db.session.commit()
    enqueue_due(TODAY, MORNING)
    settings(CRM_SMS_INBOUND_TOKEN="s3cret")
    client = app.test_client()
    refused = client.post("/sms/inbound", data={"from": "13800001111", "text": "TD"})
    assert refused.status_code == 404  # no token: nothing happens
    response = client.post(
        "/sms/inbound?token=s3cret", json={"phone_number": "138 0000 1111", "content": "退订"}
    )
    assert response.get_json() == {"status": "ok", "opted_out": True}
    db.session.expire_all()
    assert consenting.sms_opt_out_at is not None and not consenting.sms_consent
    assert messages()[0].status == OutboxStatus.SKIPPED
    assert dispatch(MORNING, provider=console).sent == 0


class TimesOut(ConsoleProvider):
    """Takes the message, then the answer is lost (a read timeout)."""

    def send(self, to, body, key):
        super().send(to, body, key)
        raise ProviderError("read timed out", uncertain=True)


def test_a_send_without_an_answer_is_asked_about_never_repeated(consenting, console):
    routine(consenting)
    db.session.commit()
    enqueue_due(TODAY, MORNING)
    summary = dispatch(MORNING, provider=TimesOut(console.path))
    assert (summary.sent, summary.uncertain) == (0, 1)
    assert messages()[0].status == OutboxStatus.SENDING
    dispatch(MORNING + timedelta(minutes=10), provider=console)
    [message] = messages()
    assert message.status == OutboxStatus.SENT
    assert len(console.sent()) == 1  # found by lookup, not sent again


def test_the_opt_out_line_can_differ_per_provider():
    from config import load_config

    config = load_config(
        "testing", {"CRM_SMS_PROVIDER": "tencent", "CRM_TENCENT_OPT_OUT_LINE": "退订回T"}
    )
    assert config["CRM_SMS_OPT_OUT_LINE"] == "退订回T"
    assert load_config("testing", {})["CRM_SMS_OPT_OUT_LINE"] == "拒收请回复R"


def test_a_send_of_unknown_fate_counts_against_the_weekly_cap(consenting, console):
    for offset in (0, 1, 2):
        routine(consenting, TODAY - timedelta(days=offset))
    db.session.commit()
    enqueue_due(TODAY, MORNING)
    summary = dispatch(MORNING, provider=TimesOut(console.path))
    # Two sends went out unanswered; they count against the cap of 2, so the third waits.
    assert summary.uncertain == 2 and summary.deferred == 1
    dispatch(MORNING + timedelta(minutes=10), provider=console)
    assert len(console.sent()) == 2
    statuses = sorted(m.status for m in messages())
    assert statuses == sorted([OutboxStatus.SENT, OutboxStatus.SENT, OutboxStatus.QUEUED])


def test_a_dispatch_batch_claims_no_more_than_its_size(world, console):
    for n in range(8):
        customer = make_customer(
            world.alice,
            f"客户{n}",
            f"+86137000000{n:02d}",
            sms_consent=True,
            created_at=utcnow() - timedelta(days=30),
        )
        routine(customer)
    db.session.commit()
    enqueue_due(TODAY, MORNING)
    summary = dispatch(MORNING, provider=console, batch=3, max_batches=1)
    assert summary.sent == 3
    statuses = [m.status for m in messages()]
    assert statuses.count(OutboxStatus.SENT) == 3 and statuses.count(OutboxStatus.QUEUED) == 5


class RefusesOne(ConsoleProvider):
    """Refuses one message for good."""

    def __init__(self, path, key: str):
        super().__init__(path)
        self.key = key

    def send(self, to, body, key):
        if key == self.key:
            raise ProviderError("number barred", permanent=True)
        return super().send(to, body, key)


def test_a_message_that_fails_for_good_gives_its_place_under_the_cap_back(consenting, console):
    for offset in (0, 1, 2):
        routine(consenting, TODAY - timedelta(days=offset))
    db.session.commit()
    enqueue_due(TODAY, MORNING)
    first = messages()[0]
    summary = dispatch(MORNING, provider=RefusesOne(console.path, first.idempotency_key))
    # The first of the two the cap let go failed: the third goes in its place, at once.
    assert (summary.sent, summary.failed) == (2, 1)
    assert [m.status for m in messages()] == [
        OutboxStatus.FAILED,
        OutboxStatus.SENT,
        OutboxStatus.SENT,
    ]
    assert len(console.sent()) == 2
