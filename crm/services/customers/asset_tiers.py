"""Asset tiers (资产分层, seed 002): customers by liquid assets, by default under ¥1,000,000,
¥1,000,000 to ¥5,000,000, and ¥5,000,000 and more, each with its own events.

A tier holds its lower bound and stops short of the next tier's: ¥1,000,000 exactly is in the
second tier, ¥5,000,000 exactly in the third. Admins may change the bounds; the tiers always
start at ¥0, follow each other with neither gap nor overlap, and the last has no end.
"""

from __future__ import annotations

import re
from decimal import Decimal

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from crm.core import audit
from crm.core.inputs import InvalidInput, parse_amount
from crm.extensions import db
from crm.models import Setting, Staff

# The tiers themselves are defined where the budgets read them (per quadrant × tier limits);
# callers keep reaching them through this module.
from crm.services.planning.tiers import (  # noqa: F401
    DEFAULT_BOUNDS,
    MAX_TIERS,
    SETTING_KEY,
    Tier,
    current_bounds,
    current_tiers,
    tier_number,
    tier_of,
    tiers_from,
)


def _yuan(amount: Decimal) -> str:
    return f"¥{amount:,.0f}" if amount == amount.to_integral_value() else f"¥{amount:,.2f}"


def label(tier: Tier) -> str:
    """How a tier reads: 100万以下, 100万–500万, 500万及以上 in Chinese, in yuan."""
    if tier.number == 1 and tier.high is not None:
        return gettext("under %(high)s", high=_yuan(tier.high))
    if tier.high is None:
        return gettext("%(low)s and more", low=_yuan(tier.low))
    return gettext("%(low)s to %(high)s", low=_yuan(tier.low), high=_yuan(tier.high))


_LINE = re.compile(r"^\s*(?P<low>[^-–~～至]*?)\s*(?:-|–|~|～|至)\s*(?P<high>.*?)\s*$")


def parse_tiers(text: str) -> tuple[Decimal, ...]:
    """Tiers as an admin writes them, one a line, "from - to" in yuan ("0 - 1000000",
    "1000000 - 5000000", "5000000 -"); the bounds between them, or ``InvalidInput``."""
    errors: dict = {}
    lines = [line for line in (text or "").splitlines() if line.strip()]
    ranges = []
    for line in lines:
        found = _LINE.match(line.replace(",", "").replace("，", ""))
        if not found:
            raise InvalidInput({"tiers": _l('Write each tier as "from - to" in yuan.')})
        low = parse_amount(found["low"] or "0", "tiers", errors)
        high = parse_amount(found["high"], "tiers", errors) if found["high"] else None
        if errors:
            raise InvalidInput(errors)
        ranges.append((low, high))
    if not 2 <= len(ranges) <= MAX_TIERS:
        raise InvalidInput({"tiers": _l("Give from 2 to %(n)d tiers.", n=MAX_TIERS)})
    if ranges[0][0] != 0:
        raise InvalidInput({"tiers": _l("The first tier starts at ¥0.")})
    if ranges[-1][1] is not None:
        raise InvalidInput({"tiers": _l("The last tier has no upper bound.")})
    for n, (low, high) in enumerate(ranges[:-1]):
        following = ranges[n + 1][0]
        if high is None or high <= low:
            raise InvalidInput({"tiers": _l("Each tier but the last ends above where it starts.")})
        if following < high:
            raise InvalidInput({"tiers": _l("Tiers %(a)d and %(b)d overlap.", a=n + 1, b=n + 2)})
        if following > high:
            raise InvalidInput(
                {"tiers": _l("Tiers %(a)d and %(b)d leave a gap.", a=n + 1, b=n + 2)}
            )
    return tuple(high for _, high in ranges[:-1])


def as_text(bounds: tuple[Decimal, ...]) -> str:
    return "\n".join(
        f"{t.low:.2f} - {t.high:.2f}" if t.high is not None else f"{t.low:.2f} -"
        for t in tiers_from(bounds)
    )


def save_tiers(actor: Staff, bounds: tuple[Decimal, ...]) -> dict:
    """Store new tier bounds (audited); the caller commits."""
    before = current_bounds()
    changes = audit.diff(
        {"asset_tiers": ", ".join(f"{b:.2f}" for b in before)},
        {"asset_tiers": ", ".join(f"{b:.2f}" for b in bounds)},
    )
    if changes:
        setting = db.session.get(Setting, SETTING_KEY) or Setting(key=SETTING_KEY)
        setting.value = ",".join(f"{b:.2f}" for b in bounds)
        setting.updated_by_id = actor.id
        db.session.add(setting)
        audit.record(actor, "setting", 0, "update", changes)
    return changes
