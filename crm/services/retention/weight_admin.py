"""The churn weights as an admin edits them (流失预警权重): each signal in words with its weight,
a preview of the book's levels under new weights, and the save, refused when someone else
saved first.

The one check of a weight is ``signals.parse_weights``, which ``flask crm churn-weights`` uses
too: a number from 0 to ``signals.MAX_WEIGHT``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from crm.core.clock import local_today
from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import Customer, Staff
from crm.models.enums import ChurnLevel, RelationshipStatus
from crm.services.retention import signals

NAMES = {
    "silence": _l("Silence"),
    "willingness_drop": _l("Willingness fell"),
    "unresponsive": _l("Experiences without a response"),
    "negative": _l("Negative responses"),
    "complaint": _l("Complaint unanswered"),
    "matured": _l("Matured policy, no intent"),
    "assets_down": _l("Liquid assets revised down"),
}

_MEANINGS = {
    "silence": _l(
        "No positive contact (an experience the customer liked, else the dossier's opening) "
        "for %(threshold)d days or more; all of the weight from %(full)d days."
    ),
    "willingness_drop": _l(
        "Willingness fell %(threshold)d points or more in %(window)d days; all of the weight "
        "from %(full)d points."
    ),
    "unresponsive": _l(
        "%(threshold)d or more experiences without a response, or no-shows, in %(window)d "
        "days; all of the weight from %(full)d."
    ),
    "negative": _l(
        "A negative response in %(window)d days; all of the weight from %(full)d of them."
    ),
    "complaint": _l(
        "A complaint awaiting its answer: half of the weight before its answer date, all of "
        "it after."
    ),
    "matured": _l(
        "A policy matured in the last %(window)d days with no intent recorded on its call-back."
    ),
    "assets_down": _l(
        "Liquid assets revised down %(threshold)d%% or more in %(window)d days; all of the "
        "weight from %(full)d%%."
    ),
}


@dataclass(frozen=True)
class WeightRow:
    code: str
    name: str
    meaning: str
    default: float
    weight: float


def rows() -> list[WeightRow]:
    """Every signal, in the order of ``signals.SIGNALS``, with its meaning and weight now."""
    weights = signals.current_weights()
    return [
        WeightRow(
            code=s.code,
            name=str(NAMES[s.code]),
            meaning=str(_MEANINGS[s.code])
            % {"threshold": s.threshold, "full": s.full, "window": s.window_days or 0},
            default=s.weight,
            weight=weights[s.code],
        )
        for s in signals.SIGNALS
    ]


def fingerprint() -> str:
    """A digest of the weights in force: the page carries it, so that an admin who saves over
    someone else's newer weights is told instead of silently undoing them."""
    weights = signals.current_weights()
    text = "|".join(f"{code}={weights[code]:g}" for code in sorted(weights))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def read(data: Mapping[str, Any]) -> dict[str, float]:
    """The weights an admin submitted (``weight.<code>`` for every signal), checked as the
    command line checks them; ``InvalidInput`` keyed by those field names otherwise."""
    given = {s.code: data.get(f"weight.{s.code}", "") for s in signals.SIGNALS}
    try:
        return signals.parse_weights(given)
    except InvalidInput as error:
        raise InvalidInput({f"weight.{code}": m for code, m in error.errors.items()}) from None


def save(actor: Staff, data: Mapping[str, Any]) -> dict:
    """Check and store the submitted weights (audited by ``signals.save_weights``); the caller
    commits. Refused, nothing written, if the weights changed since the page was opened."""
    if data.get("fingerprint") != fingerprint():
        raise InvalidInput(
            {
                "": _l(
                    "Someone else saved the weights since you opened this page. Check the "
                    "current weights and save again."
                )
            }
        )
    weights = read(data)
    changed = {code: w for code, w in weights.items() if w != signals.current_weights()[code]}
    return signals.save_weights(actor, changed) if changed else {}


def preview(weights: Mapping[str, float]) -> dict[ChurnLevel, int]:
    """How many customers (not lost) would be at each level under ``weights`` today: the same
    set-based scoring as the nightly run, counted instead of stored (one pass over the book)."""
    scored = signals.scores(local_today(), weights, as_of_now=True).subquery()
    counts = dict(
        db.session.execute(
            sa.select(scored.c.level, sa.func.count()).group_by(scored.c.level)
        ).all()
    )
    return {level: int(counts.get(level.value, 0)) for level in ChurnLevel}


def levels_now() -> dict[ChurnLevel, int]:
    """How many customers (not lost) are at each level by the last scoring."""
    counts = dict(
        db.session.execute(
            sa.select(Customer.churn_level, sa.func.count())
            .where(
                Customer.churn_level.is_not(None),
                Customer.relationship_status != RelationshipStatus.LOST,
            )
            .group_by(Customer.churn_level)
        ).all()
    )
    counts = {getattr(k, "value", k): n for k, n in counts.items()}
    return {level: int(counts.get(level.value, 0)) for level in ChurnLevel}
