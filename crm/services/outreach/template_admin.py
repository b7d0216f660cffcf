"""Admins edit the SMS templates (短信模板) at /admin/sms-templates, per content kind (seed 004)
and, where a quadrant gets its own text, per quadrant: each body is checked for
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
from flask_babel import lazy_pgettext as _p

from crm.core import audit
from crm.core.inputs import InvalidInput, refuse_control_characters
from crm.extensions import db
from crm.models import Customer, SmsTemplate, Staff
from crm.models.enums import Quadrant
from crm.services.outreach import sms_templates

PLACEHOLDERS = ("greeting", "name", "owner")
# The providers' limit on one long SMS, signature and opt-out line included (Alibaba Cloud
# and Tencent Cloud: 500 characters).
PROVIDER_LENGTH = 500
# The longest values the fields may take: a 60-character name (the dossier's limit) and an
# 80-character display name (the staff table's).
_LONGEST = {"greeting": "长" * 60, "name": "长" * 60, "owner": "长" * 80}


LOCALES = ("zh_CN", "en")
# Seed 004's content kinds, as the page names them.
KIND_NAMES = {
    "finance_idea": _p("sms kind", "Finance ideas"),
    "product": _p("sms kind", "Products"),
    "market": _p("sms kind", "Markets"),
    "news": _p("sms kind", "Major news"),
    "holiday": _p("sms kind", "Holidays"),
    "important_day": _p("sms kind", "Important days"),
}


def templates() -> list[SmsTemplate]:
    return list(
        db.session.scalars(sa.select(SmsTemplate).order_by(SmsTemplate.key, SmsTemplate.locale))
    )


def by_kind() -> dict[str | None, list[SmsTemplate]]:
    """The templates under their content kind (None: neither a kind nor a greeting)."""
    grouped: dict[str | None, list[SmsTemplate]] = {kind: [] for kind in sms_templates.KINDS}
    for template in templates():
        kind = sms_templates.kind_of(template.key)
        grouped.setdefault(kind if kind in KIND_NAMES else None, []).append(template)
    return grouped


def kind_name(key: str) -> str | None:
    """The content kind of a template as the page names it (None: a greeting or a note)."""
    if key.startswith(sms_templates.OCCASION_PREFIX):
        return None
    return KIND_NAMES.get(sms_templates.kind_of(key))


def quadrant_of(key: str) -> str | None:
    return sms_templates.quadrant_of(key)


def get(key: str, locale: str) -> SmsTemplate | None:
    return db.session.get(SmsTemplate, (key, locale))


def get_or_new(key: str, locale: str) -> SmsTemplate | None:
    """The template, or a new one (not yet added) where ``key`` names a content kind and, if
    any, a quadrant (``news``, ``market.pamper``) and ``locale`` is one the SMS are sent in."""
    found = get(key, locale)
    if found is not None or locale not in LOCALES:
        return found
    kind, quadrant = sms_templates.kind_of(key), sms_templates.quadrant_of(key)
    valid = kind in sms_templates.KINDS and key.count(".") <= 1
    if not valid or (quadrant is not None and quadrant not in {q.value for q in Quadrant}):
        return None
    return SmsTemplate(key=key, locale=locale, body="", min_willingness=0, active=True)


def sample_customer(key: str) -> Customer | None:
    """A real customer to preview on: one of the template's quadrant where it has one."""
    query = sa.select(Customer).order_by(Customer.id).limit(1)
    quadrant = sms_templates.quadrant_of(key)
    if quadrant is not None:
        found = db.session.scalar(query.where(Customer.quadrant == quadrant))
        if found is not None:
            return found
    return db.session.scalar(query)


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
    """Store a checked body (audited); a new template is added. The caller commits."""
    body = check_body(body)
    new = sa.inspect(template).transient
    changes = audit.diff(
        {"body": None if new else template.body, "active": None if new else template.active},
        {"body": body, "active": active},
    )
    if changes:
        template.body, template.active = body, active
        if new:
            db.session.add(template)
        audit.record(
            actor,
            "sms_template",
            0,
            "create" if new else "update",
            changes,
            reason=f"{template.key}/{template.locale}",
        )
    return changes
