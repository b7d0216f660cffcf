"""Group event types (活动类型, seed 002) and the asset tiers each suits.

Seed 002 gives each asset tier its own events: a mini salon (微沙龙) and a customer
appreciation (答谢会) for everyone, a wealth-inheritance lecture (财富传承讲座) from
¥1,000,000, a private board (私董会) from ¥5,000,000. Admins may change which tiers each
type suits; inviting a customer outside them is not forbidden (a staff member may know
better), but asks for confirmation first.

The tiers are kept by number (1 the lowest) in one setting. Until an admin saves them, each
type suits the tiers from its default floor of liquid assets up, whatever the bounds are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from crm.core import audit
from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import Customer, GroupEvent, Setting, Staff
from crm.models.enums import EventType
from crm.services.customers import asset_tiers

SETTING_KEY = "event_type_tiers"
DEFAULT_FLOORS = {
    EventType.SALON: Decimal("0.00"),
    EventType.APPRECIATION: Decimal("0.00"),
    EventType.PRIVATE_BOARD: Decimal("5000000.00"),
    EventType.LEGACY_LECTURE: Decimal("1000000.00"),
}


class OutsideTiers(InvalidInput):
    """An invitation of customers the event's type does not suit: asked to confirm first."""

    def __init__(self, errors: dict, customers: list[Customer]):
        super().__init__(errors)
        self.customers = customers


def as_type(value: object) -> EventType | None:
    """The event type a form or caller names (None: not one of them)."""
    try:
        return EventType(value or "")
    except ValueError:
        return None


def _stored() -> str | None:
    return db.session.scalar(sa.select(Setting.value).where(Setting.key == SETTING_KEY))


def _read(stored: str) -> dict[EventType, frozenset[int]]:
    suited: dict[EventType, frozenset[int]] = {}
    for part in stored.split(";"):
        name, _, numbers = part.partition(":")
        if (event_type := as_type(name)) is not None:
            suited[event_type] = frozenset(int(n) for n in numbers.split(",") if n.isdigit())
    return suited


def _written(suited: Mapping[EventType, Iterable[int]]) -> str:
    return ";".join(
        f"{t.value}:{','.join(str(n) for n in sorted(suited.get(t, ())))}" for t in EventType
    )


def suited_tiers(tiers: list[asset_tiers.Tier] | None = None) -> dict[EventType, frozenset[int]]:
    """Each type's suited tiers, by number, among the current tiers."""
    tiers = tiers if tiers is not None else asset_tiers.current_tiers()
    numbers = {t.number for t in tiers}
    stored = _stored()
    if stored:
        suited = _read(stored)
        return {t: suited.get(t, frozenset(numbers)) & numbers for t in EventType}
    # The top tier always: a floor above every bound still suits the richest customers.
    return {
        t: frozenset(tier.number for tier in tiers if tier.low >= floor or tier.high is None)
        for t, floor in DEFAULT_FLOORS.items()
    }


def outside_tiers(event: GroupEvent, customers: Iterable[Customer]) -> list[Customer]:
    """Those of ``customers`` whose asset tier the event's type does not suit."""
    tiers = asset_tiers.current_tiers()
    suited = suited_tiers(tiers)[event.event_type]
    return [
        c for c in customers if asset_tiers.tier_of(c.liquid_assets, tiers).number not in suited
    ]


def refuse_unconfirmed(event: GroupEvent, customers: list[Customer], confirmed: bool) -> None:
    """Ask before inviting customers outside the tiers the event's type suits."""
    outside = outside_tiers(event, customers)
    if outside and not confirmed:
        names = "、".join(c.name for c in outside[:5]) + ("…" if len(outside) > 5 else "")
        raise OutsideTiers(
            {
                "outside_tiers": _l(
                    "%(names)s: this event's type does not suit their asset tier. Confirm to"
                    " invite them anyway.",
                    names=names,
                )
            },
            outside,
        )


# --- admins set the tiers each type suits -------------------------------------------------


def fingerprint() -> str:
    """What an admin's edit starts from: saving refuses if someone saved since."""
    return _written(suited_tiers())


def save_suited_tiers(actor: Staff, chosen: Mapping[str, Iterable[object]], seen: str) -> dict:
    """Store which tiers each type suits (``chosen``: the type's value → tier numbers),
    audited; the caller commits. Each type suits one tier at least."""
    tiers = asset_tiers.current_tiers()
    numbers = {t.number for t in tiers}
    errors: dict = {}
    suited: dict[EventType, set[int]] = {}
    for event_type in EventType:
        picked = {int(n) for n in chosen.get(event_type.value, ()) if str(n).isdigit()}
        if picked - numbers:
            errors[event_type.value] = _l("Choose one of the listed values.")
        elif not picked:
            errors[event_type.value] = _l("Choose at least one tier.")
        suited[event_type] = picked
    if errors:
        raise InvalidInput(errors)
    before = fingerprint()
    if seen != before:
        raise InvalidInput(
            {"": _l("Someone saved the event types in the meantime; check them and save again.")}
        )
    after = _written(suited)
    changes = audit.diff({SETTING_KEY: before}, {SETTING_KEY: after})
    if changes:
        setting = db.session.get(Setting, SETTING_KEY) or Setting(key=SETTING_KEY)
        setting.value = after
        setting.updated_by_id = actor.id
        db.session.add(setting)
        audit.record(actor, "setting", 0, "update", changes)
    return changes
