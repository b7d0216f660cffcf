"""SMS content kinds (seed 004): finance ideas, products, markets, major news, holidays and
important days; a quadrant may have its own text of a kind, and no customer gets the same
kind twice in a row, a greeting's kind included."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crm.extensions import db
from crm.models.base import utcnow
from crm.models.enums import Gender, MoveCause, Quadrant
from crm.services.customers import tiering
from crm.services.outreach import sms_templates, template_admin
from crm.services.outreach.enqueue import enqueue_due
from tests.services.outreach.test_outbox import (
    MORNING,
    TODAY,
    messages,
    routine,
)


@pytest.fixture
def consenting(world):
    """A customer who agreed to SMS a month ago."""
    customer = world.alice_customer
    customer.sms_consent, customer.sms_consent_at = True, utcnow()
    customer.gender = Gender.MALE
    customer.created_at = customer.created_at - timedelta(days=30)
    db.session.commit()
    return customer


def write(world, key: str, body: str, locale: str = "zh_CN"):
    template = template_admin.get_or_new(key, locale)
    template_admin.save(world.admin, template, body, True)
    db.session.commit()
    return template


def test_todays_topics_are_kinds_and_greetings_take_their_occasions_kind(app):
    routine = [t.key for t in sms_templates.active_templates("zh_CN") if "." not in t.key]
    assert {k: sms_templates.kind_of(k) for k in routine} == {
        "finance_idea": "finance_idea",
        "holiday": "holiday",
        "market": "market",
        "personal": "personal",
        "product": "product",
    }
    assert sms_templates.kind_of("occasion.birthday.personal") == "important_day"
    assert sms_templates.kind_of("occasion.policy_anniversary") == "important_day"
    assert sms_templates.kind_of("occasion.mid_autumn") == "holiday"
    assert sms_templates.kind_of("market.pamper") == "market"


def test_a_quadrant_with_its_own_text_of_a_kind_gets_it_and_the_others_the_general_one(
    world, consenting
):
    write(world, "market.pamper", "{greeting}您好！为您精选的高端资产配置观察已备好。——{owner}")
    write(world, "news", "{greeting}您好！央行今日调整利率，欢迎咨询{owner}。")
    templates = sms_templates.active_templates("zh_CN")

    pamper = {t.key for t in sms_templates.for_quadrant(templates, Quadrant.PAMPER.value)}
    develop = {t.key for t in sms_templates.for_quadrant(templates, Quadrant.DEVELOP.value)}
    assert "market.pamper" in pamper and "market" not in pamper
    assert "market" in develop and "market.pamper" not in develop
    assert "news" in pamper and "news" in develop
    assert not any(k.startswith("occasion.") for k in pamper | develop)


@pytest.mark.parametrize(
    "last", ["finance_idea", "market.pamper", "news", "occasion.birthday", "occasion.mid_autumn"]
)
def test_never_the_same_kind_twice_in_a_row(world, consenting, last):
    write(world, "market.pamper", "{greeting}您好！高端资产配置观察已备好。——{owner}")
    write(world, "news", "{greeting}您好！本周要闻速递，欢迎咨询{owner}。")
    write(world, "important_day", "{greeting}您好！下周是您保单的重要日子，{owner}会提前联系您。")
    consenting.liquid_assets, consenting.willingness = 6_000_000, 90
    tiering.place(consenting, MoveCause.DOSSIER_EDIT, None)
    db.session.commit()
    assert consenting.quadrant == Quadrant.PAMPER
    templates = sms_templates.active_templates("zh_CN")
    chosen = {
        sms_templates.choose_template(templates, consenting, n, last).key for n in range(1, 40)
    }
    assert chosen and all(sms_templates.kind_of(k) != sms_templates.kind_of(last) for k in chosen)


def test_after_a_birthday_greeting_the_next_sms_is_not_of_important_days(world, consenting):
    write(world, "important_day", "{greeting}您好！您的重要日子我们都记得。——{owner}")
    greeting = routine(consenting, TODAY - timedelta(days=1))
    greeting.occasion = "birthday"
    db.session.commit()
    enqueue_due(TODAY - timedelta(days=1), MORNING - timedelta(days=1))
    # Plan on until the rotation alone would pick an important-day text for the next SMS.
    templates = sms_templates.active_templates("zh_CN")
    following = routine(consenting, TODAY + timedelta(days=60))
    while sms_templates.choose_template(templates, consenting, following.id).key != "important_day":
        following = routine(consenting, TODAY + timedelta(days=60))
    following.due_on = TODAY
    db.session.commit()

    enqueue_due(TODAY, MORNING)

    [first, second] = [m for m in messages() if m.experience_id in (greeting.id, following.id)]
    assert first.template_key == "occasion.birthday"
    assert sms_templates.kind_of(second.template_key) not in (None, "important_day")
