"""The text of routine SMS (短信模板): a template per topic and language, the customer's
fields, and the signature and opt-out line every marketing SMS carries."""

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


def choose_template(
    templates: list[SmsTemplate], customer: Customer, experience_id: int, last: str | None = None
) -> SmsTemplate:
    """Rotate through the topics the customer's willingness suits; closer customers get the
    personal ones every other time (seed 004: from templated to personal). A customer never
    gets the topic of their ``last`` SMS twice in a row while another suits them."""
    templates = [t for t in templates if not t.key.startswith(OCCASION_PREFIX)]
    suited = [t for t in templates if t.min_willingness <= customer.willingness]
    personal = [t for t in suited if t.min_willingness > 0]
    general = [t for t in suited if t.min_willingness == 0] or suited
    if personal and experience_id % 2 == 0:
        chosen = personal[(experience_id // 2) % len(personal)]
    else:
        chosen = general[experience_id % len(general)]
    others = [t for t in suited if t.key != last]
    if chosen.key == last and others:
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
