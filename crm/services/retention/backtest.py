"""The churn backtest (流失预警回测): would the score have warned of those who then left?

It scores the book as it stood at the end of a past day, from what was on record by then
(``signals.figures`` reads willingness and assets back from the audit log, experiences held,
complaints open and call-backs recorded by that day), and compares with what happened within
the horizon: the customer was marked lost, or their liquid assets were revised down by half.
It reports the AUC (the chance that a customer who left scored above one who stayed, from the
Mann-Whitney U statistic), and precision and recall among the top tenth by score, beside the
same for a recency-only baseline (days since the last contact of any kind).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from scipy.stats import mannwhitneyu

from crm.core.clock import local_today
from crm.core.inputs import InvalidInput, date_refusal
from crm.extensions import db
from crm.models import Customer
from crm.models.enums import RelationshipStatus
from crm.services.retention import signals

TOP_SHARE = 0.10
MAX_HORIZON_DAYS = 3650


@dataclass(frozen=True)
class Ranking:
    """How well one ranking of the book foretold who left."""

    auc: float | None  # None when nobody (or everybody) left
    precision_top: float
    recall_top: float


@dataclass(frozen=True)
class Backtest:
    as_of: date
    horizon_days: int
    customers: int
    churned: int
    top: int  # how many customers the top tenth holds
    score: Ranking
    recency: Ranking


def read_request(as_of: Any, horizon_days: Any, today: date | None = None) -> tuple[date, int]:
    """The day and horizon as given, or ``InvalidInput``: the day is a date not after today,
    the horizon a whole number of days above 0."""
    today = today or local_today()
    errors: dict[str, Any] = {}
    day = as_of if isinstance(as_of, date) else None
    if day is None:
        try:
            day = date.fromisoformat(str(as_of or "").strip())
        except ValueError:
            errors["as_of"] = _l("Enter the day to score as of, as YYYY-MM-DD.")
    if day is not None:
        if day > today:
            errors["as_of"] = _l("The backtest scores the past: choose a day up to today.")
        elif refusal := date_refusal(day, today=today):
            errors["as_of"] = refusal
    try:
        horizon = int(str(horizon_days).strip())
    except ValueError:
        horizon = None
    if horizon is None or not 0 < horizon <= MAX_HORIZON_DAYS:
        errors["horizon_days"] = _l("The horizon is a whole number of days from 1 to 3650.")
    if errors:
        raise InvalidInput(errors)
    return day, horizon


def churned_by(as_of: date, horizon_days: int) -> sa.Select:
    """The customers who, within the horizon after ``as_of``, were marked lost or had their
    liquid assets revised down to half or less of what they were at ``as_of``."""
    until = as_of + timedelta(days=horizon_days)
    assets_then = signals.value_after("liquid_assets", signals.day_end(as_of), "assets_then")
    assets_later = signals.value_after("liquid_assets", signals.day_end(until), "assets_later")
    now = signals.assets_in_yuan(Customer.liquid_assets)
    then = sa.func.coalesce(sa.cast(assets_then.c.value, sa.Float), now)
    later = sa.func.coalesce(sa.cast(assets_later.c.value, sa.Float), now)
    lost = sa.and_(
        Customer.relationship_status == RelationshipStatus.LOST,
        Customer.lost_on > sa.literal(as_of, sa.Date),
        Customer.lost_on <= sa.literal(until, sa.Date),
    )
    return (
        sa.select(Customer.id)
        .outerjoin(assets_then, assets_then.c.customer_id == Customer.id)
        .outerjoin(assets_later, assets_later.c.customer_id == Customer.id)
        .where(sa.or_(lost, sa.and_(then > 0, later <= then / 2)))
    )


def rank_quality(risk: np.ndarray, outcome: np.ndarray) -> Ranking:
    """AUC and precision and recall in the top tenth of ``risk`` (higher: riskier; ties in
    the top tenth broken by the order given) against ``outcome`` (True: left)."""
    positives = int(outcome.sum())
    top = max(1, math.ceil(len(risk) * TOP_SHARE)) if len(risk) else 0
    auc = None
    if 0 < positives < len(outcome):
        u = mannwhitneyu(risk[outcome], risk[~outcome], alternative="two-sided").statistic
        auc = float(u) / (positives * (len(outcome) - positives))
    order = np.argsort(-risk, kind="stable")[:top]
    hits = int(outcome[order].sum())
    return Ranking(
        auc=auc,
        precision_top=hits / top if top else 0.0,
        recall_top=hits / positives if positives else 0.0,
    )


def run_backtest(as_of: date, horizon_days: int) -> Backtest:
    """Score the book as of ``as_of`` from history alone and compare with the horizon."""
    scored = signals.scores(as_of, signals.current_weights()).subquery()
    churned = churned_by(as_of, horizon_days).subquery()
    rows = db.session.execute(
        sa.select(
            scored.c.score,
            scored.c.recency,
            churned.c.id.is_not(None),
        )
        .outerjoin(churned, churned.c.id == scored.c.customer_id)
        .order_by(scored.c.customer_id)
    ).all()
    score = np.array([r[0] for r in rows], dtype=float)
    recency = np.array([r[1] for r in rows], dtype=float)
    outcome = np.array([bool(r[2]) for r in rows], dtype=bool)
    return Backtest(
        as_of=as_of,
        horizon_days=horizon_days,
        customers=len(rows),
        churned=int(outcome.sum()),
        top=max(1, math.ceil(len(rows) * TOP_SHARE)) if rows else 0,
        score=rank_quality(score, outcome),
        recency=rank_quality(recency, outcome),
    )
