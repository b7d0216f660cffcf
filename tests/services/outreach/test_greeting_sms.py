"""A planned greeting is queued with its occasion's text, on its day only, like any SMS."""

from __future__ import annotations

from datetime import timedelta

from crm.extensions import db
from crm.models.base import utcnow
from crm.services.outreach.dispatch import dispatch
from crm.services.outreach.enqueue import enqueue_due
from tests.services.outreach.test_outbox import (
    MORNING,
    TODAY,
    consenting,  # noqa: F401 (a fixture)
    console,  # noqa: F401 (a fixture)
    messages,
    routine,
)


def greeting(customer, occasion, due_on=TODAY):
    experience = routine(customer, due_on)
    experience.occasion = occasion
    db.session.flush()
    return experience


def test_a_birthday_greeting_is_sent_with_the_birthday_text(consenting, console):  # noqa: F811
    greeting(consenting, "birthday")
    db.session.commit()
    assert enqueue_due(TODAY, MORNING) == 1
    [message] = messages()
    assert message.template_key == "occasion.birthday"
    assert message.body.startswith("【银保服务】张先生您好！今天是您的生日")
    assert message.body.endswith("拒收请回复R")
    assert dispatch(MORNING, provider=console).sent == 1


def test_a_closer_customer_gets_the_personal_greeting(consenting, console):  # noqa: F811
    consenting.willingness = 80
    greeting(consenting, "mid_autumn")
    db.session.commit()
    enqueue_due(TODAY, MORNING)
    [message] = messages()
    assert message.template_key == "occasion.mid_autumn.personal"
    assert "中秋快乐" in message.body


def test_a_greeting_is_not_sent_late_and_not_after_an_opt_out(consenting, console):  # noqa: F811
    greeting(consenting, "birthday", TODAY - timedelta(days=1))
    late_routine = routine(consenting, TODAY - timedelta(days=2))
    db.session.commit()
    enqueue_due(TODAY, MORNING)
    # The routine SMS may go a little late; the greeting of yesterday does not.
    assert [m.experience_id for m in messages()] == [late_routine.id]
    assert messages()[0].template_key.startswith("occasion.") is False

    greeting(consenting, "national_day")
    consenting.sms_opt_out_at = utcnow()
    db.session.commit()
    enqueue_due(TODAY, MORNING)
    assert dispatch(MORNING, provider=console).sent == 0


def test_a_customer_does_not_get_the_same_topic_twice_in_a_row(consenting, console):  # noqa: F811
    first = routine(consenting, TODAY - timedelta(days=1))
    db.session.commit()
    enqueue_due(TODAY, MORNING)
    # Four general topics rotate by id: four ids on, the rotation would pick the same one.
    for _ in range(3):
        routine(consenting, TODAY + timedelta(days=30 + _))
    second = routine(consenting, TODAY)
    assert second.id == first.id + 4
    db.session.commit()
    enqueue_due(TODAY, MORNING)
    keys = [m.template_key for m in messages()]
    assert len(keys) == 2 and keys[0] != keys[1]
    assert not any(k.startswith("occasion.") for k in keys)
