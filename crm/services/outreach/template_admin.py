"""Admins edit the SMS templates (短信模板) at /admin/sms-templates: each body is checked for
placeholders and length before it is saved, previewed on a real customer with the personal
fields masked, and every change is audited.

A template may use only the fields ``sms_templates.render`` fills. Rendered for the longest
name and relationship manager a dossier allows, with the signature and the opt-out line, it
must stay within what the providers send as one (long) message.
"""

from __future__ import annotations

import string

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from crm.core import audit
from crm.core.inputs import InvalidInput, refuse_control_characters
from crm.extensions import db
from crm.models import Customer, SmsTemplate, Staff
from crm.services.outreach import sms_templates

PLACEHOLDERS = ("greeting", "name", "owner")
# The providers' limit on one long SMS, signature and opt-out line included (Alibaba Cloud
# and Tencent Cloud: 500 characters).
PROVIDER_LENGTH = 500
# The longest values the fields may take: a 60-character name (the dossier's limit) and an
# 80-character display name (the staff table's).
_LONGEST = {"greeting": "长" * 60, "name": "长" * 60, "owner": "长" * 80}


def templates() -> list[SmsTemplate]:
    return list(
        db.session.scalars(sa.select(SmsTemplate).order_by(SmsTemplate.key, SmsTemplate.locale))
    )


def get(key: str, locale: str) -> SmsTemplate | None:
    return db.session.get(SmsTemplate, (key, locale))


def check_body(body: str) -> str:
    """The body as it will be saved, or ``InvalidInput`` saying what is wrong with it."""
    body = (body or "").strip()
    errors: dict = {}
    if not body:
        raise InvalidInput({"body": _l("Enter the text of the SMS.")})
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(body) if name is not None}
    except ValueError:
        raise InvalidInput(
            {"body": _l("A brace is not closed: write placeholders as {greeting}.")}
        ) from None
    unknown = sorted(n for n in names if n not in PLACEHOLDERS)
    if unknown:
        raise InvalidInput(
            {
                "body": _l(
                    "Unknown placeholder: %(names)s. Use only %(known)s.",
                    names=", ".join("{" + n + "}" for n in unknown),
                    known=", ".join("{" + n + "}" for n in PLACEHOLDERS),
                )
            }
        )
    longest = len(sms_templates.marketing_text(body.format_map(_LONGEST)))
    if longest > PROVIDER_LENGTH:
        raise InvalidInput(
            {
                "body": _l(
                    "Too long: with the longest name it would be %(n)d characters; providers "
                    "send at most %(max)d.",
                    n=longest,
                    max=PROVIDER_LENGTH,
                )
            }
        )
    refuse_control_characters({"body": body}, errors)
    if errors:
        raise InvalidInput(errors)
    return body


def _masked(name: str) -> str:
    return name[:1] + "*" * max(len(name) - 1, 1)


def preview(body: str, customer: Customer | None, owner: Staff | None, locale: str) -> str:
    """The SMS as ``customer`` would get it, the name masked (张** rather than 张伟伟)."""
    body = check_body(body)
    name = _masked(customer.name) if customer else "—"
    greeting = sms_templates.greeting(customer, locale) if customer else "—"
    if customer and customer.name.strip() and greeting.strip() == customer.name.strip():
        greeting = name
    fields = {"name": name, "greeting": greeting, "owner": owner.display_name if owner else "—"}
    return sms_templates.marketing_text(body.format_map(fields))


def save(actor: Staff, template: SmsTemplate, body: str, active: bool) -> dict:
    """Store a checked body (audited); the caller commits."""
    body = check_body(body)
    changes = audit.diff(
        {"body": template.body, "active": template.active},
        {"body": body, "active": active},
    )
    if changes:
        template.body, template.active = body, active
        audit.record(
            actor, "sms_template", 0, "update", changes, reason=f"{template.key}/{template.locale}"
        )
    return changes
