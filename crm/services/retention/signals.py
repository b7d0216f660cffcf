"""The signals of churn risk (流失风险信号), their weights, and each customer's figures as SQL.

A customer's risk is the sum of what each signal contributes, at most 100: a signal's weight
times how strongly it shows (0 to 1), rounded to whole points. Every figure is read as of a
day from what was on record by its end, so the backtest can score the book as it stood then.

=================== ===================================================== =========== ======
signal              shows when                                            full at     weight
=================== ===================================================== =========== ======
``silence``         no positive contact (an experience liked; else since  180 days    25
                    the dossier opened) for 90 days or more
``willingness_drop`` willingness fell 10 points or more in 90 days        30 points   15
``unresponsive``    2 or more experiences without a response (or          3           15
                    no-shows) in 180 days
``negative``        a negative response in 180 days                       2           10
``complaint``       a complaint awaiting its answer (half before its      overdue     10
                    answer date, all of it after)
``matured``         a policy matured in the last 90 days with no intent   1           10
                    recorded on its call-back
``assets_down``     liquid assets revised down 20% or more in 180 days    50%         15
=================== ===================================================== =========== ======

Admins change the weights (``flask crm churn-weights``); they are settings, each a number from
0 up. Willingness and assets as of a past day are read back from the audit log: the value a
field had on day D is the old value of its first change after D, or its value now.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from crm.core import audit
from crm.core.clock import business_zone
from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import (
    AuditLog,
    Complaint,
    Customer,
    Experience,
    MaturityCallback,
    Policy,
    Setting,
    Staff,
)
from crm.models.base import UTCDateTime
from crm.models.enums import ChurnLevel, ExperienceStatus, RelationshipStatus, Response
from crm.services.planning import contact_dates


@dataclass(frozen=True)
class Signal:
    code: str
    weight: float  # the default, in points at full strength
    threshold: int  # the figure from which the signal shows
    full: int  # the figure at which it shows at full strength
    window_days: int | None = None  # how far back it looks, where it looks back


SIGNALS = (
    Signal("silence", 25, threshold=90, full=180),
    Signal("willingness_drop", 15, threshold=10, full=30, window_days=90),
    Signal("unresponsive", 15, threshold=2, full=3, window_days=180),
    Signal("negative", 10, threshold=1, full=2, window_days=180),
    Signal("complaint", 10, threshold=1, full=2),
    Signal("matured", 10, threshold=1, full=1, window_days=90),
    Signal("assets_down", 15, threshold=20, full=50, window_days=180),
)
BY_CODE = {s.code: s for s in SIGNALS}

# The levels: high from 60 points, medium from 30.
HIGH_FROM = 60
MEDIUM_FROM = 30
MAX_WEIGHT = 100

WEIGHT_KEY = "churn.weight."
POSITIVE = (Response.ENTHUSIASTIC, Response.POSITIVE)


def level_for(score: int) -> ChurnLevel:
    """The level of a score: the one rule, also as SQL in ``level_case``."""
    if score >= HIGH_FROM:
        return ChurnLevel.HIGH
    return ChurnLevel.MEDIUM if score >= MEDIUM_FROM else ChurnLevel.LOW


def level_case(score: sa.ColumnElement) -> sa.Case:
    return sa.case(
        (score >= HIGH_FROM, ChurnLevel.HIGH.value),
        (score >= MEDIUM_FROM, ChurnLevel.MEDIUM.value),
        else_=ChurnLevel.LOW.value,
    )


# --- weights ------------------------------------------------------------------------------


def current_weights() -> dict[str, float]:
    """The weights in force: the defaults above until an admin changes one."""
    stored = dict(
        db.session.execute(
            sa.select(Setting.key, Setting.value).where(Setting.key.startswith(WEIGHT_KEY))
        ).all()
    )
    return {s.code: float(stored.get(WEIGHT_KEY + s.code, s.weight)) for s in SIGNALS}


def parse_weights(given: Mapping[str, Any]) -> dict[str, float]:
    """Weights from user input (signal code to text), or ``InvalidInput`` naming each bad one:
    a weight is a number from 0 to 100."""
    errors: dict[str, Any] = {}
    weights: dict[str, float] = {}
    for code, raw in given.items():
        if code not in BY_CODE:
            errors[code] = _l("There is no such signal.")
            continue
        try:
            value = Decimal(str(raw).strip())
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            errors[code] = _l("A weight is a number, such as 15 or 7.5.")
        elif value < 0 or value > MAX_WEIGHT:
            errors[code] = _l("A weight is a number from 0 to 100.")
        else:
            weights[code] = float(value)
    if errors:
        raise InvalidInput(errors)
    return weights


def save_weights(actor: Staff | None, weights: Mapping[str, float]) -> dict:
    """Store changed weights (audited); the next scoring uses them."""
    before = current_weights()
    changes = audit.diff(
        {f"churn_weight_{c}": before[c] for c in weights},
        {f"churn_weight_{c}": w for c, w in weights.items()},
    )
    for code, weight in weights.items():
        setting = db.session.get(Setting, WEIGHT_KEY + code) or Setting(key=WEIGHT_KEY + code)
        setting.value = f"{weight:g}"
        setting.updated_by_id = actor.id if actor else None
        db.session.add(setting)
    if changes:
        audit.record(actor, "setting", 0, "update", changes)
    return changes


# --- figures as of a day ------------------------------------------------------------------


def day_end(day: date) -> datetime:
    """The first instant after ``day`` in the business's zone: what was on record by then."""
    return datetime.combine(day + timedelta(days=1), time(), business_zone())


def _instant(at: datetime) -> sa.BindParameter:
    return sa.literal(at, UTCDateTime())


def _day(day: date) -> sa.BindParameter:
    return sa.literal(day, sa.Date)


def days_between(later: sa.ColumnElement, earlier: sa.ColumnElement) -> sa.ColumnElement:
    """Whole days from ``earlier`` to ``later`` (two dates) in SQL."""
    if db.engine.dialect.name == "sqlite":
        return sa.cast(sa.func.julianday(later) - sa.func.julianday(earlier), sa.Integer)
    return later - earlier


def _business_day_of(at: sa.ColumnElement, day: date) -> sa.ColumnElement:
    """The business's day of ``at`` (its UTC date is a day early 00:00–08:00 in Beijing)."""
    if db.engine.dialect.name == "sqlite":  # the zone's offset on ``day``: exact without DST
        return sa.func.date(at, f"{day_end(day).utcoffset().total_seconds():+.0f} seconds")
    return sa.cast(sa.func.timezone(business_zone().key, at), sa.Date)


def value_after(field: str, after: datetime, name: str) -> sa.Subquery:
    """Per customer, the old value of the first audited change of ``field`` after ``after``:
    the value the field had then (customers with no later change are not in it)."""
    first = (
        sa.select(AuditLog.customer_id, sa.func.min(AuditLog.id).label("first_id"))
        .where(
            AuditLog.entity == "customer",
            AuditLog.field == field,
            AuditLog.at >= _instant(after),
        )
        .group_by(AuditLog.customer_id)
        .subquery()
    )
    return (
        sa.select(first.c.customer_id, AuditLog.old_value.label("value"))
        .join(AuditLog, AuditLog.id == first.c.first_id)
        .subquery(name)
    )


def _as_number(text: sa.ColumnElement) -> sa.ColumnElement:
    return sa.cast(text, sa.Float)


def assets_in_yuan(column: sa.ColumnElement) -> sa.ColumnElement:
    """Liquid assets in yuan as a number: SQLite keeps fen (``crm.models.base.Money``)."""
    if db.engine.dialect.name == "sqlite":
        return sa.type_coerce(column, sa.Integer) / 100.0
    return sa.cast(column, sa.Float)


def held_figures(day: date) -> sa.Subquery:
    """Per customer, from the experiences held by ``day``: the last liked, the last of any
    kind, and in the 180 days to ``day`` those without a response and the negative ones."""
    since = _day(day - timedelta(days=BY_CODE["unresponsive"].window_days))
    recent = Experience.held_on > since
    unanswered = sa.or_(
        Experience.status == ExperienceStatus.NO_SHOW,
        Experience.response == Response.NO_RESPONSE,
    )
    return (
        sa.select(
            Experience.customer_id,
            sa.func.max(sa.case((Experience.response.in_(POSITIVE), Experience.held_on))).label(
                "last_liked"
            ),
            sa.func.max(Experience.held_on).label("last_held"),
            sa.func.sum(sa.case((sa.and_(recent, unanswered), 1), else_=0)).label("unresponsive"),
            sa.func.sum(
                sa.case((sa.and_(recent, Experience.response == Response.NEGATIVE), 1), else_=0)
            ).label("negative"),
        )
        # Held as the customer list's last contact counts it (one definition).
        .where(contact_dates.is_contact(), Experience.held_on <= _day(day))
        .group_by(Experience.customer_id)
        .subquery("held")
    )


def complaint_figures(day: date) -> sa.Subquery:
    """Per customer, complaints awaiting their answer at the end of ``day``, and whether one
    is past its answer date."""
    end = _instant(day_end(day))
    return (
        sa.select(
            Complaint.customer_id,
            sa.func.max(sa.case((Complaint.due_at < end, 1), else_=0)).label("overdue"),
        )
        .where(
            Complaint.opened_at < end,
            sa.or_(Complaint.answered_at.is_(None), Complaint.answered_at >= end),
        )
        .group_by(Complaint.customer_id)
        .subquery("complaints")
    )


def matured_figures(day: date) -> sa.Subquery:
    """Per customer, policies matured in the 90 days to ``day`` with no intent recorded on
    their call-back by then."""
    end = _instant(day_end(day))
    since = _day(day - timedelta(days=BY_CODE["matured"].window_days))
    intent_known = (
        sa.select(MaturityCallback.id)
        .where(
            MaturityCallback.policy_id == Policy.id,
            MaturityCallback.intent.is_not(None),
            MaturityCallback.recorded_at < end,
        )
        .exists()
    )
    return (
        sa.select(Policy.customer_id, sa.func.count().label("matured"))
        .where(Policy.maturity_date > since, Policy.maturity_date <= _day(day), ~intent_known)
        .group_by(Policy.customer_id)
        .subquery("matured")
    )


def _ramp(figure, signal: Signal, weight: float) -> sa.ColumnElement:
    """The points a figure earns: none below the threshold, then the weight times the
    figure's share of ``full`` (at most all of it), rounded half up. In whole numbers only
    (the weight in hundredths), so both databases round alike and cheaply:
    ⌊(2 · figure · weight₁₀₀ + 100 · full) / (200 · full)⌋."""
    hundredths = round(weight * 100)
    capped = sa.case((figure >= signal.full, signal.full), else_=figure)
    points = (capped * (2 * hundredths) + 100 * signal.full) // (200 * signal.full)
    return sa.case((figure >= signal.threshold, points), else_=0)


def figures(day: date, *, as_of_now: bool = False) -> sa.Select:
    """Every customer not lost by ``day`` with each signal's figure (``f_<code>``) and the
    days since their last contact of any kind (``recency``, the baseline), as one statement.

    ``as_of_now``: the day is today, so the values on the customer row are the values as of
    it; otherwise they are read back from the audit log (the backtest)."""
    held = held_figures(day)
    complaints = complaint_figures(day)
    matured = matured_figures(day)
    will_window = timedelta(days=BY_CODE["willingness_drop"].window_days)
    assets_window = timedelta(days=BY_CODE["assets_down"].window_days)
    will_then = value_after("willingness", day_end(day - will_window), "will_then")
    assets_then = value_after("liquid_assets", day_end(day - assets_window), "assets_then")
    joins = [
        (held, held.c.customer_id),
        (complaints, complaints.c.customer_id),
        (matured, matured.c.customer_id),
        (will_then, will_then.c.customer_id),
        (assets_then, assets_then.c.customer_id),
    ]
    will_now: sa.ColumnElement = Customer.willingness
    assets_now: sa.ColumnElement = assets_in_yuan(Customer.liquid_assets)
    not_lost = Customer.relationship_status != RelationshipStatus.LOST
    if not as_of_now:
        will_at = value_after("willingness", day_end(day), "will_at")
        assets_at = value_after("liquid_assets", day_end(day), "assets_at")
        joins += [(will_at, will_at.c.customer_id), (assets_at, assets_at.c.customer_id)]
        will_now = sa.func.coalesce(_as_number(will_at.c.value), will_now)
        assets_now = sa.func.coalesce(_as_number(assets_at.c.value), assets_now)
        not_lost = sa.or_(not_lost, Customer.lost_on > _day(day))

    opened = _business_day_of(Customer.created_at, day)
    then = sa.func.coalesce(_as_number(assets_then.c.value), assets_now)
    will_drop = sa.func.coalesce(_as_number(will_then.c.value), will_now) - will_now
    figure = {
        "silence": days_between(_day(day), sa.func.coalesce(held.c.last_liked, opened)),
        "willingness_drop": sa.cast(will_drop, sa.Integer),
        "unresponsive": sa.func.coalesce(held.c.unresponsive, 0),
        "negative": sa.func.coalesce(held.c.negative, 0),
        "complaint": sa.case(
            (complaints.c.overdue == 1, 2), (complaints.c.customer_id.is_not(None), 1), else_=0
        ),
        "matured": sa.func.coalesce(matured.c.matured, 0),
        "assets_down": sa.case(
            (then > 0, sa.cast(sa.func.round((then - assets_now) * 100.0 / then), sa.Integer)),
            else_=0,
        ),
    }
    statement = sa.select(
        Customer.id.label("customer_id"),
        days_between(_day(day), sa.func.coalesce(held.c.last_held, opened)).label("recency"),
        *(figure[s.code].label(f"f_{s.code}") for s in SIGNALS),
    ).select_from(Customer)
    for subquery, key in joins:
        statement = statement.outerjoin(subquery, key == Customer.id)
    return statement.where(not_lost, Customer.created_at < _instant(day_end(day)))


def scores(day: date, weights: Mapping[str, float], *, as_of_now: bool = False) -> sa.Select:
    """``figures`` with each signal's points (``p_<code>``), the score (their sum, at most
    100), its level and the contributing reasons as JSON text."""
    return scores_of(figures(day, as_of_now=as_of_now).subquery("figures"), weights)


def scores_of(figured: sa.FromClause, weights: Mapping[str, float]) -> sa.Select:
    """Points, score, level and reasons over rows that carry the figures (``figures``, or a
    table filled from it: read from plain columns, the arithmetic below costs little, where
    over the joins themselves a database may work each figure out again for every use)."""
    points = {s.code: _ramp(figured.c[f"f_{s.code}"], s, weights[s.code]) for s in SIGNALS}
    with_points = sa.select(
        figured,
        *(points[s.code].label(f"p_{s.code}") for s in SIGNALS),
    ).subquery("points")
    total = sum((with_points.c[f"p_{s.code}"] for s in SIGNALS), sa.literal(0))
    score = sa.case((total > 100, 100), else_=total)
    return sa.select(
        with_points,
        score.label("score"),
        level_case(score).label("level"),
        reasons_text(with_points.c).label("reasons"),
    )


def reasons_text(row_columns: Mapping[str, sa.ColumnElement]) -> sa.ColumnElement:
    """The contributing signals of a row of ``figures`` as JSON text, built in SQL:
    ``[["silence", 13, 140], …]`` (code, points, figure), highest points first is left to
    ``crm.services.retention.reasons.top_reasons``."""
    parts = [
        sa.case(
            (
                row_columns[f"p_{s.code}"] > 0,
                sa.literal(f',["{s.code}",')
                + sa.cast(row_columns[f"p_{s.code}"], sa.String)
                + sa.literal(",")
                + sa.cast(row_columns[f"f_{s.code}"], sa.String)
                + sa.literal("]"),
            ),
            else_=sa.literal(""),
        )
        for s in SIGNALS
    ]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + part
    return sa.literal("[") + sa.func.substr(joined, 2) + sa.literal("]")
