"""The text of routine SMS (短信模板): a template per content kind (and quadrant, where one has
its own) and language, the customer's fields, and the signature and opt-out line every
marketing SMS carries."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from crm.extensions import db
from crm.models import Customer, SmsTemplate, Staff
from crm.models.enums import Gender

COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "慕容", "皇甫", "尉迟", "公孙", "令狐")


def greeting(customer: Customer, locale: str) -> str:
    """How an SMS addresses the customer: 张先生 / 张女士, or the name as it stands."""
    name = customer.name.strip()
    if locale.startswith("zh") and customer.gender != Gender.UNSPECIFIED and name:
        surname = next((s for s in COMPOUND_SURNAMES if name.startswith(s)), name[0])
        return surname + ("先生" if customer.gender == Gender.MALE else "女士")
    return name


# Greetings (crm.services.planning.greetings) have a template each, keyed by the occasion:
# ``occasion.birthday``, and ``occasion.birthday.personal`` for closer customers.
OCCASION_PREFIX = "occasion."


# Seed 004's content kinds of SMS: finance ideas, products, markets, major news, holidays and
# important days. A routine template's key is its kind, and where a quadrant has its own text,
# the kind and the quadrant (``market.pamper``). Today's topics are kinds of their own name.
KINDS = ("finance_idea", "product", "market", "news", "holiday", "important_day")
# A greeting is of the kind of its occasion: festivals are holidays, the customer's own days
# important days. ``personal`` (a personal note for closer customers) stays a kind of its own.
IMPORTANT_DAYS = ("birthday", "policy_anniversary")


def kind_of(key: str | None) -> str | None:
    """The content kind of a template key (``market.pamper`` → ``market``)."""
    if key is None:
        return None
    if key.startswith(OCCASION_PREFIX):
        occasion = key.removeprefix(OCCASION_PREFIX).split(".")[0]
        return "important_day" if occasion in IMPORTANT_DAYS else "holiday"
    return key.split(".")[0]


def quadrant_of(key: str) -> str | None:
    """The quadrant a routine template is written for (None: every quadrant)."""
    parts = key.split(".")
    return parts[1] if len(parts) > 1 and not key.startswith(OCCASION_PREFIX) else None


def for_quadrant(templates: list[SmsTemplate], quadrant: str) -> list[SmsTemplate]:
    """The routine templates a quadrant's customers get: of each kind, the quadrant's own text
    where it has one, else the text for every quadrant."""
    routine = [t for t in templates if not t.key.startswith(OCCASION_PREFIX)]
    own = {kind_of(t.key) for t in routine if quadrant_of(t.key) == quadrant}
    return [
        t
        for t in routine
        if quadrant_of(t.key) == quadrant
        or (quadrant_of(t.key) is None and kind_of(t.key) not in own)
    ]


def choose_template(
    templates: list[SmsTemplate], customer: Customer, experience_id: int, last: str | None = None
) -> SmsTemplate:
    """Rotate through the kinds the customer's quadrant and willingness suit; closer customers
    get the personal ones every other time (seed 004: from templated to personal). A customer
    never gets the kind of their ``last`` SMS (a greeting's included) twice in a row while
    another suits them."""
    templates = for_quadrant(templates, str(customer.quadrant))
    suited = [t for t in templates if t.min_willingness <= customer.willingness]
    personal = [t for t in suited if t.min_willingness > 0]
    general = [t for t in suited if t.min_willingness == 0] or suited
    if personal and experience_id % 2 == 0:
        chosen = personal[(experience_id // 2) % len(personal)]
    else:
        chosen = general[experience_id % len(general)]
    others = [t for t in suited if kind_of(t.key) != kind_of(last)]
    if kind_of(chosen.key) == kind_of(last) and others:
        chosen = others[experience_id % len(others)]
    return chosen


def occasion_template(
    templates: list[SmsTemplate], customer: Customer, occasion: str
) -> SmsTemplate | None:
    """The greeting for ``occasion``: the personal one if the customer is close enough."""
    by_key = {t.key: t for t in templates}
    personal = by_key.get(f"{OCCASION_PREFIX}{occasion}.personal")
    if personal is not None and personal.min_willingness <= customer.willingness:
        return personal
    return by_key.get(f"{OCCASION_PREFIX}{occasion}")


def marketing_text(body: str) -> str:
    """The signature first and the opt-out line last, as marketing SMS must carry them."""
    config = current_app.config
    return f"{config['CRM_SMS_SIGNATURE']}{body}{config['CRM_SMS_OPT_OUT_LINE']}"


def render(template: SmsTemplate, customer: Customer, owner: Staff | None) -> str:
    fields = {
        "name": customer.name,
        "greeting": greeting(customer, template.locale),
        "owner": owner.display_name if owner else "",
    }
    return marketing_text(template.body.format_map(fields))


def active_templates(locale: str) -> list[SmsTemplate]:
    templates = list(
        db.session.scalars(
            sa.select(SmsTemplate)
            .where(SmsTemplate.locale == locale, SmsTemplate.active.is_(True))
            .order_by(SmsTemplate.key)
        )
    )
    if not templates:
        raise RuntimeError(f"No active SMS templates for {locale}")
    return templates
