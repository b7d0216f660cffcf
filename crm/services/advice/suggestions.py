"""Next best experience (下一步体验建议): up to three things to do next for a customer.

A suggestion is a touchpoint category that the experience matrix offers the customer's
quadrant, never one it marks × (不予体验):

- a strategic (☆) or should (√) category that is due or overdue by its cadence (a cadence
  after the last one held, or never held) and not already planned; routine SMS only for a
  customer who may be sent them, as the planner does;
- a discretionary (◎) category only when no planned category is due and fits, and none of
  it was held or planned in the last ``DISCRETIONARY_GAP`` days;
- whose unit cost fits what is left of the customer's 12-month budget.

Strategic ones come first; then they rank by expected effect per yuan: the share of such
experiences the bank's own history shows answered positively for the quadrant
(``crm.services.advice.effects``, a prior blended in where history is thin) over the
category's unit cost; or, where a finished holdout experiment covered the category and the
customer, the uplift per yuan it measured (``crm.services.advice.measured``), and the
suggestion names the experiment. For a customer at high churn risk a personal touch (anything but a
routine SMS) counts ``CHURN_RAISE`` times as much. Each personal suggestion may carry a
product to talk about: seed 003's choice for the customer's age band, narrowed to what their
risk level allows (``crm.services.followup.hints``, seed 000's R1–R5); from 61, a deposit.
A lost customer gets none.

Planning one goes through ``crm.services.experiences.plans.add_experience``, the checks of
planning by hand: over budget by then is refused with the amount.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import LazyString, lazy_pgettext
from flask_babel import lazy_gettext as _l

from crm.core import reads
from crm.core.clock import local_today
from crm.models import Customer, Experience, Product, TouchpointCategory, TouchpointRule
from crm.models.enums import (
    ChurnLevel,
    ExperienceStatus,
    Mark,
    Quadrant,
    RelationshipStatus,
    Touchpoint,
)
from crm.services.advice import effects, measured
from crm.services.customers import suitability
from crm.services.followup import hints
from crm.services.planning import budget, matrix

MOST = 3
DISCRETIONARY_GAP = timedelta(days=90)
CHURN_RAISE = 1.5
ORDER = {Mark.STRATEGIC: 0, Mark.SHOULD: 1, Mark.DISCRETIONARY: 2}
SEPARATOR = lazy_pgettext("between reasons", "; ")


@dataclass
class Suggestion:
    category: Touchpoint
    mark: Mark
    cost: Decimal
    effect: effects.Effect
    per_yuan: float
    last_held: date | None = None
    interval_days: int | None = None
    churn_raised: bool = False
    measured: measured.Measured | None = None  # a finished experiment's uplift, if one
    product: Product | None = None
    deposit: bool = False
    reasons: list[LazyString] = field(default_factory=list)

    @property
    def reason(self) -> str:
        return str(SEPARATOR).join(str(r) for r in self.reasons)


@dataclass(frozen=True)
class Option:
    """A matrix cell of the customer's quadrant, with their history of its category."""

    category: Touchpoint
    mark: Mark
    interval_days: int | None
    cost: Decimal
    last_held: date | None
    last_any: date | None
    planned: int


@functools.cache
def _options_statement() -> sa.Select:
    """Per customer of ``ids``, each category of their quadrant's matrix row with its unit
    cost, and when they last had one held, had one at all, and how many are planned: the
    matrix and the history in one statement."""
    day = sa.func.coalesce(Experience.held_on, Experience.due_on)
    status = Experience.status
    ids = sa.bindparam("ids", expanding=True)
    seen = (
        sa.select(
            Experience.customer_id,
            Experience.category,
            sa.func.max(sa.case((status == ExperienceStatus.DONE, day))).label("last_held"),
            sa.func.max(sa.case((status != ExperienceStatus.CANCELLED, day))).label("last_any"),
            sa.func.sum(sa.case((status == ExperienceStatus.PLANNED, 1), else_=0)).label("planned"),
        )
        .where(Experience.customer_id.in_(ids))
        .group_by(Experience.customer_id, Experience.category)
        .subquery()
    )
    return (
        sa.select(
            Customer.id.label("customer_id"),
            TouchpointRule.category,
            TouchpointRule.mark,
            TouchpointRule.interval_days,
            TouchpointCategory.unit_cost,
            seen.c.last_held,
            seen.c.last_any,
            seen.c.planned,
        )
        .select_from(Customer)
        .join(TouchpointRule, TouchpointRule.quadrant == Customer.quadrant)
        .join(TouchpointCategory, TouchpointCategory.key == TouchpointRule.category)
        .outerjoin(
            seen,
            sa.and_(seen.c.customer_id == Customer.id, seen.c.category == TouchpointRule.category),
        )
        .where(Customer.id.in_(ids))
        .order_by(Customer.id, TouchpointCategory.position)
    )


def options(ids: list[int]) -> dict[int, list[Option]]:
    found: dict[int, list[Option]] = {i: [] for i in ids}
    if not ids:
        return found
    for row in reads.rows(_options_statement(), ids=ids):
        found[row.customer_id].append(
            Option(
                Touchpoint(row.category),
                Mark(row.mark),
                row.interval_days,
                row.unit_cost,
                row.last_held,
                row.last_any,
                int(row.planned or 0),
            )
        )
    return found


def for_customer(
    customer, remaining: Decimal | None = None, today: date | None = None
) -> list[Suggestion]:
    """Up to three suggestions for one customer (a ``Customer`` or a dossier page's row);
    ``remaining``: the budget left, when the caller has read it already."""
    today = today or local_today()
    if remaining is None:
        remaining = budget.budget_for(customer, today).remaining
    return suggest(
        customer,
        options([customer.id])[customer.id],
        remaining,
        effects.effects(today),
        suitability.active_products,
        today,
        measured.measured(today),
    )


def for_customers(customers: Sequence, today: date | None = None) -> dict[int, list[Suggestion]]:
    """Suggestions for several customers in a handful of statements (the today page's)."""
    today = today or local_today()
    ids = [c.id for c in customers]
    if not ids:
        return {}
    found, table, tested = options(ids), effects.effects(today), measured.measured(today)
    limits = matrix.customer_limits()
    used = budget.used_by(ids, today)
    shelf = functools.cache(suitability.active_products)
    return {
        c.id: suggest(
            c,
            found[c.id],
            limits.of(c.quadrant, c.liquid_assets) - (used.get(c.id) or budget.ZERO),
            table,
            shelf,
            today,
            tested,
        )
        for c in customers
    }


def suggest(
    customer,
    cells: list[Option],
    remaining: Decimal,
    table: dict[tuple[Quadrant, Touchpoint], effects.Effect],
    shelf: Callable[[], list[Product]],
    today: date,
    tested: dict | None = None,
) -> list[Suggestion]:
    """The ranked suggestions for one customer from what was read; ``shelf`` gives the
    products on sale, read only when a suggestion may carry one; ``tested``: the finished
    experiments' uplifts (``measured.measured``)."""
    if customer.relationship_status == RelationshipStatus.LOST:
        return []
    quadrant = Quadrant(customer.quadrant)
    at_risk = customer.churn_level == ChurnLevel.HIGH
    reachable = bool(customer.sms_consent) and customer.sms_opt_out_at is None
    cadence, discretionary = [], []
    for cell in cells:
        if cell.mark == Mark.NEVER or cell.cost > remaining:
            continue
        if cell.mark == Mark.DISCRETIONARY:
            if cell.last_any is None or cell.last_any <= today - DISCRETIONARY_GAP:
                discretionary.append(cell)
        elif cell.interval_days is not None and not cell.planned:
            if cell.category == Touchpoint.ROUTINE and not reachable:
                continue
            due = cell.last_held is None or cell.last_held + timedelta(cell.interval_days) <= today
            if due:
                cadence.append(cell)
    branch_id = getattr(customer, "branch_id", None)
    suggestions = [
        _suggestion(
            quadrant,
            at_risk,
            today,
            table,
            c,
            measured.for_customer(tested or {}, quadrant, c.category, branch_id),
        )
        for c in cadence or discretionary
    ]
    suggestions.sort(key=lambda s: (ORDER[s.mark], -s.per_yuan, list(Touchpoint).index(s.category)))
    suggestions = suggestions[:MOST]
    _add_products(customer, suggestions, shelf, today)
    return suggestions


def _suggestion(
    quadrant, at_risk, today, table, cell: Option, tested: measured.Measured | None
) -> Suggestion:
    effect = table[(quadrant, cell.category)]
    raised = at_risk and cell.category != Touchpoint.ROUTINE
    if tested is not None:
        # What withholding the category did, per yuan: a measured cause beats the prior.
        per_yuan = tested.per_yuan
    else:
        per_yuan = effect.share / float(cell.cost) if cell.cost else effect.share
    if raised:
        per_yuan *= CHURN_RAISE
    return Suggestion(
        category=cell.category,
        mark=cell.mark,
        cost=cell.cost,
        effect=effect,
        per_yuan=per_yuan,
        last_held=cell.last_held,
        interval_days=cell.interval_days,
        churn_raised=raised,
        measured=tested,
        reasons=_reasons(quadrant, today, cell, effect, raised, tested),
    )


def _reasons(quadrant, today, cell: Option, effect, raised, tested) -> list[LazyString]:
    from crm.labels import QUADRANT

    name, mark, interval = QUADRANT[quadrant], cell.mark, cell.interval_days
    if mark == Mark.STRATEGIC:
        reasons = [_l("Strategic for %(quadrant)s customers", quadrant=name)]
    elif mark == Mark.SHOULD:
        reasons = [_l("Planned by cadence for %(quadrant)s customers", quadrant=name)]
    else:
        reasons = [_l("Discretionary: nothing planned by cadence is due")]
    if mark == Mark.DISCRETIONARY:
        reasons.append(_l("none in the last %(days)d days", days=DISCRETIONARY_GAP.days))
    elif cell.last_held is None:
        reasons.append(_l("none held yet, due every %(interval)d days", interval=interval))
    else:
        reasons.append(
            _l(
                "last one %(days)d days ago, due every %(interval)d days",
                days=(today - cell.last_held).days,
                interval=interval,
            )
        )
    if tested is not None:
        reasons.append(
            _l(
                "measured by the experiment “%(name)s”: %(uplift)s per ¥10,000 spent "
                "(95%% interval %(low)s to %(high)s) at ¥%(cost)s",
                name=tested.name,
                uplift=f"{tested.uplift:+,.2f}",
                low=f"{tested.low:+,.2f}",
                high=f"{tested.high:+,.2f}",
                cost=f"{cell.cost:,.2f}",
            )
        )
    else:
        reasons.append(
            _l(
                "%(share)d%% positive responses expected at ¥%(cost)s "
                "(%(held)d held in the last year)",
                share=round(effect.share * 100),
                cost=f"{cell.cost:,.2f}",
                held=effect.held,
            )
        )
    if raised:
        reasons.append(_l("high churn risk: a personal touch counts more"))
    return reasons


def _add_products(customer, suggestions: list[Suggestion], shelf, today: date) -> None:
    """A product to talk about on a personal suggestion: seed 003's for the age band, within
    the customer's risk level; never one above it. Without a birth date there is no band."""
    personal = [s for s in suggestions if s.category != Touchpoint.ROUTINE]
    if not personal or customer.birth_date is None:
        return
    hint = hints.hint_for(customer, today, shelf())
    if hint is None:
        return
    suitable = [p for p in hint.products if suitability.allows(customer.risk_level, p.risk_level)]
    for suggestion in personal:
        suggestion.deposit = hint.deposit
        suggestion.product = suitable[0] if suitable else None
