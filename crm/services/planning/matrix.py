"""The experience matrix (客户体验, seed 004): which touchpoint categories serve which quadrant,
how often the planner fills them, and what they cost. Admins edit it; every edit is audited."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from crm.core import audit, reads
from crm.core.inputs import InvalidInput, parse_amount
from crm.extensions import db
from crm.models import Customer, Experience, Setting, Staff, TouchpointCategory, TouchpointRule
from crm.models.enums import PLANNED_MARKS, Mark, Quadrant, Touchpoint
from crm.services.planning import tiers

MAX_UNIT_COST = Decimal("10000000.00")
MAX_LIMIT = Decimal("100000000.00")
LIMIT_KEY = "budget.limit.{}"
# An admin's limit for one asset tier of a quadrant (budget.limit.pamper.3); none: the quadrant's.
TIER_LIMIT_KEY = "budget.limit.{}.{}"
_MONEY = Experience.planned_cost.type
_ASSETS = Customer.liquid_assets.type


def categories() -> list[TouchpointCategory]:
    return list(
        db.session.scalars(sa.select(TouchpointCategory).order_by(TouchpointCategory.position))
    )


def rules() -> dict[tuple[Quadrant, Touchpoint], TouchpointRule]:
    return {(r.quadrant, r.category): r for r in db.session.scalars(sa.select(TouchpointRule))}


def rule_for(quadrant: Quadrant, category: Touchpoint) -> TouchpointRule:
    return db.session.get(TouchpointRule, (quadrant, category))


def unit_cost(category: Touchpoint) -> Decimal:
    return db.session.get(TouchpointCategory, category).unit_cost


@dataclass(frozen=True)
class PlannedRule:
    """A matrix cell the rolling planner fills by cadence."""

    quadrant: Quadrant
    category: Touchpoint
    mark: Mark
    interval_days: int
    unit_cost: Decimal

    @property
    def priority(self) -> int:
        # Strategic experiences are planned, and take their budget, first.
        return PLANNED_MARKS.index(self.mark)


def planned_rules() -> list[PlannedRule]:
    rows = db.session.execute(
        sa.select(TouchpointRule, TouchpointCategory.unit_cost)
        .join(TouchpointCategory, TouchpointCategory.key == TouchpointRule.category)
        .where(TouchpointRule.mark.in_(PLANNED_MARKS), TouchpointRule.interval_days.is_not(None))
        .order_by(TouchpointRule.quadrant, TouchpointCategory.position)
    )
    return [PlannedRule(r.quadrant, r.category, r.mark, r.interval_days, cost) for r, cost in rows]


# --- cost limits --------------------------------------------------------------------------


@functools.cache
def _limits_statement() -> sa.Select:
    keys = [limit_key(q) for q in Quadrant]
    return sa.select(Setting.key, Setting.value).where(Setting.key.in_(keys))


def cost_limits() -> dict[Quadrant, Decimal]:
    """Per-customer budget for a rolling 12 months, per quadrant (configuration, unless an
    admin has changed it)."""
    stored = dict(reads.rows(_limits_statement()))
    return {q: cost_limit(q, stored.get(limit_key(q))) for q in Quadrant}


def limit_key(quadrant: Quadrant) -> str:
    return LIMIT_KEY.format(quadrant.value)


def stored_limit(key: sa.BindParameter) -> sa.ScalarSelect:
    """The limit an admin stored under ``key`` (a bound parameter: ``limit_key(quadrant)``),
    as a subquery another statement can carry; NULL where none is stored."""
    return sa.select(Setting.value).where(Setting.key == key).scalar_subquery()


def cost_limit(quadrant: Quadrant, stored: str | None) -> Decimal:
    """A quadrant's limit: what an admin stored, else the configuration's."""
    if stored is None:
        stored = current_app.config["CRM_COST_LIMITS"][quadrant.value]
    return Decimal(stored).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class CostLimits:
    """Each customer's 12-month limit: their quadrant × asset tier's where an admin set one
    (a ¥5M+ pamper customer may warrant more than a ¥1M one), else their quadrant's. Every
    budget check reads a customer's limit through ``of`` (or ``sql``, the same rule in SQL)."""

    quadrants: dict[Quadrant, Decimal]
    by_tier: dict[tuple[Quadrant, int], Decimal]
    tiers: tuple[tiers.Tier, ...]

    def of(self, quadrant: str, liquid_assets: Decimal | None) -> Decimal:
        quadrant = Quadrant(quadrant)
        tier = tiers.tier_of(liquid_assets or Decimal("0"), list(self.tiers)).number
        return self.by_tier.get((quadrant, tier), self.quadrants[quadrant])

    def sql(self, quadrant: sa.ColumnElement, liquid_assets: sa.ColumnElement) -> sa.Case:
        """``of`` for each row of a statement (``quadrant`` and ``liquid_assets`` columns)."""
        return sa.case(
            *(
                (
                    sa.and_(quadrant == q.value, _within(liquid_assets, self.tiers[n - 1])),
                    sa.literal(amount, _MONEY),
                )
                for (q, n), amount in self.by_tier.items()
                if n <= len(self.tiers)
            ),
            *(
                (quadrant == q.value, sa.literal(amount, _MONEY))
                for q, amount in self.quadrants.items()
            ),
        )


def _within(assets: sa.ColumnElement, tier: tiers.Tier) -> sa.ColumnElement[bool]:
    low = assets >= sa.literal(tier.low, _ASSETS)
    if tier.number == 1:
        low = sa.true()
    if tier.high is None:
        return low
    return sa.and_(low, assets < sa.literal(tier.high, _ASSETS))


def tier_limit_key(quadrant: Quadrant, tier: int) -> str:
    return TIER_LIMIT_KEY.format(quadrant.value, tier)


@functools.cache
def _all_limits_statement() -> sa.Select:
    return sa.select(Setting.key, Setting.value).where(
        sa.or_(Setting.key.like("budget.limit.%"), Setting.key == tiers.SETTING_KEY)
    )


def limits_from(stored: Mapping[str, str | None]) -> CostLimits:
    """The limits from the settings rows as stored (key → value); absent keys: defaults."""
    bounds = tiers.bounds_from(stored.get(tiers.SETTING_KEY))
    by_tier = {
        (q, n): Decimal(stored[tier_limit_key(q, n)]).quantize(Decimal("0.01"))
        for q in Quadrant
        for n in range(1, tiers.MAX_TIERS + 1)
        if stored.get(tier_limit_key(q, n))
    }
    return CostLimits(
        quadrants={q: cost_limit(q, stored.get(limit_key(q))) for q in Quadrant},
        by_tier=by_tier,
        tiers=tuple(tiers.tiers_from(bounds)),
    )


def customer_limits() -> CostLimits:
    """Every quadrant's and quadrant × tier's limit, in one statement."""
    return limits_from(dict(reads.rows(_all_limits_statement())))


# --- admin edits --------------------------------------------------------------------------


def fingerprint() -> str:
    """A digest of the whole matrix as stored: the edit page carries it, so an admin who
    saves over someone else's newer edit is told instead of silently undoing it."""
    import hashlib

    parts = [f"{r.quadrant}.{r.category}={r.mark}/{r.interval_days}" for r in rules().values()]
    parts += [f"{c.key}={c.unit_cost}" for c in categories()]
    parts += [f"{q}={amount}" for q, amount in cost_limits().items()]
    parts += [f"{q}.{n}={amount}" for (q, n), amount in customer_limits().by_tier.items()]
    return hashlib.sha256("|".join(sorted(parts)).encode()).hexdigest()[:16]


def update_matrix(actor: Staff, data: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Apply an admin's edit of the matrix, cadences, unit costs and limits; the caller commits.

    ``data`` holds ``mark.<quadrant>.<category>``, ``interval.<quadrant>.<category>``,
    ``unit_cost.<category>``, ``limit.<quadrant>`` and ``limit.<quadrant>.<tier>`` (blank: the
    quadrant's limit applies) (any may be absent: unchanged), and
    the ``fingerprint`` of the matrix the edit began from.
    Everything is checked first; one bad value writes nothing.
    """
    seen = data.get("fingerprint")
    if seen is not None and seen != fingerprint():
        raise InvalidInput(
            {
                "": _l(
                    "Someone else saved the matrix since you opened it. "
                    "Reload the page to see their values, then make your change again."
                )
            }
        )
    errors: dict[str, Any] = {}
    marks: dict[tuple[Quadrant, Touchpoint], Mark] = {}
    intervals: dict[tuple[Quadrant, Touchpoint], int | None] = {}
    current = rules()
    for (quadrant, category), rule in current.items():
        key = f"{quadrant.value}.{category.value}"
        raw_mark = data.get(f"mark.{key}")
        try:
            marks[(quadrant, category)] = rule.mark if raw_mark is None else Mark(raw_mark)
        except ValueError:
            errors[f"mark.{key}"] = _l("Choose one of the listed values.")
            continue
        raw = data.get(f"interval.{key}", rule.interval_days)
        raw = raw.strip() if isinstance(raw, str) else raw
        if raw in ("", None):
            days = None
        else:
            try:
                days = int(raw)
            except (TypeError, ValueError):
                days = 0
            if not 1 <= days <= 366:
                errors[f"interval.{key}"] = _l("Enter a number of days from 1 to 366.")
        if marks[(quadrant, category)] in PLANNED_MARKS and days is None:
            errors[f"interval.{key}"] = _l("A planned experience needs a cadence in days.")
        intervals[(quadrant, category)] = (
            days if marks[(quadrant, category)] in PLANNED_MARKS else None
        )
    costs: dict[Touchpoint, Decimal] = {}
    for category in categories():
        raw = data.get(f"unit_cost.{category.key.value}")
        if raw is None:
            costs[category.key] = category.unit_cost
            continue
        amount = parse_amount(raw, f"unit_cost.{category.key.value}", errors, maximum=MAX_UNIT_COST)
        costs[category.key] = amount if amount is not None else category.unit_cost
    limits_before = cost_limits()
    limits: dict[Quadrant, Decimal] = {}
    for quadrant in Quadrant:
        raw = data.get(f"limit.{quadrant.value}")
        if raw is None:
            limits[quadrant] = limits_before[quadrant]
            continue
        amount = parse_amount(raw, f"limit.{quadrant.value}", errors, maximum=MAX_LIMIT)
        limits[quadrant] = amount if amount is not None else limits_before[quadrant]
    tier_limits_before = customer_limits().by_tier
    tier_limits = _read_tier_limits(data, tier_limits_before, errors)
    if errors:
        raise InvalidInput(errors)

    changes: dict[str, tuple[Any, Any]] = {}
    for (quadrant, category), rule in current.items():
        key = f"{quadrant.value}.{category.value}"
        new_mark, new_days = marks[(quadrant, category)], intervals[(quadrant, category)]
        if rule.mark != new_mark:
            changes[f"mark.{key}"] = (rule.mark, new_mark)
            rule.mark = new_mark
        if rule.interval_days != new_days:
            changes[f"interval.{key}"] = (rule.interval_days, new_days)
            rule.interval_days = new_days
    for category in categories():
        if category.unit_cost != costs[category.key]:
            changes[f"unit_cost.{category.key.value}"] = (category.unit_cost, costs[category.key])
            category.unit_cost = costs[category.key]
    for quadrant, amount in limits.items():
        if amount != limits_before[quadrant]:
            changes[f"limit.{quadrant.value}"] = (limits_before[quadrant], amount)
            key = limit_key(quadrant)
            setting = db.session.get(Setting, key) or Setting(key=key)
            setting.value = str(amount)
            setting.updated_by_id = actor.id
            db.session.add(setting)
    for (quadrant, tier), amount in tier_limits.items():
        before = tier_limits_before.get((quadrant, tier))
        if amount != before:
            changes[f"limit.{quadrant.value}.{tier}"] = (before, amount)
            _store(actor, tier_limit_key(quadrant, tier), None if amount is None else str(amount))
    if changes:
        audit.record(actor, "matrix", 0, "update", changes)
    return changes


def _read_tier_limits(
    data: Mapping[str, Any], before: dict[tuple[Quadrant, int], Decimal], errors: dict
) -> dict[tuple[Quadrant, int], Decimal | None]:
    """``limit.<quadrant>.<tier>`` as submitted: an amount, or blank for the quadrant's."""
    wanted: dict[tuple[Quadrant, int], Decimal | None] = {}
    for quadrant in Quadrant:
        for tier in range(1, tiers.MAX_TIERS + 1):
            field = f"limit.{quadrant.value}.{tier}"
            raw = data.get(field)
            if raw is None:
                continue
            if not str(raw).strip():
                wanted[(quadrant, tier)] = None
                continue
            amount = parse_amount(raw, field, errors, maximum=MAX_LIMIT)
            wanted[(quadrant, tier)] = (
                amount if amount is not None else before.get((quadrant, tier))
            )
    return wanted


def _store(actor: Staff, key: str, value: str | None) -> None:
    setting = db.session.get(Setting, key)
    if value is None:
        if setting is not None:
            db.session.delete(setting)
        return
    setting = setting or Setting(key=key)
    setting.value = value
    setting.updated_by_id = actor.id
    db.session.add(setting)
