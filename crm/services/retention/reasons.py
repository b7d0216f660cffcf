"""The reasons of a churn score in words (流失原因), in the reader's language.

The scoring stores each contributing signal as ``[code, points, figure]``; these turn them into
"no positive contact for 140 days", "willingness fell 25 points in 90 days" and so on.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from flask_babel import gettext, ngettext

from crm.core.clock import business_zone, local_today
from crm.services.retention.signals import BY_CODE

TOP = 3  # reasons shown beside a score


class Reason(NamedTuple):
    code: str
    points: int
    figure: int


def top_reasons(stored: Iterable | None, n: int = TOP) -> list[Reason]:
    """The ``n`` signals that contribute most, highest first (unknown codes left out)."""
    reasons = [Reason(str(r[0]), int(r[1]), int(r[2])) for r in stored or () if r[0] in BY_CODE]
    return sorted(reasons, key=lambda r: (-r.points, list(BY_CODE).index(r.code)))[:n]


def describe(reason: Reason) -> str:
    """One reason as a phrase in the current language."""
    figure = reason.figure
    match reason.code:
        case "silence":
            return ngettext(
                "no positive contact for %(num)d day",
                "no positive contact for %(num)d days",
                figure,
            )
        case "willingness_drop":
            return gettext(
                "willingness fell %(points)d points in %(days)d days",
                points=figure,
                days=BY_CODE["willingness_drop"].window_days,
            )
        case "unresponsive":
            return ngettext(
                "%(num)d experience without a response",
                "%(num)d experiences without a response",
                figure,
            )
        case "negative":
            return ngettext("%(num)d negative response", "%(num)d negative responses", figure)
        case "complaint":
            if figure >= 2:
                return gettext("complaint unanswered past its answer date")
            return gettext("complaint awaiting its answer")
        case "matured":
            return ngettext(
                "policy matured, no intent recorded",
                "%(num)d policies matured, no intent recorded",
                figure,
            )
        case "assets_down":
            return gettext("liquid assets revised down %(percent)d%%", percent=figure)
    return reason.code


def describe_all(
    stored: Iterable | None, scored_at: datetime | None = None, n: int = TOP
) -> list[str]:
    """The top reasons of a stored score, in words. A score stands until a night finds
    another (``scoring.score_all``), so the days of silence are counted on to today from
    ``scored_at``, when it was worked out."""
    elapsed = 0
    if scored_at is not None:
        elapsed = max(0, (local_today() - scored_at.astimezone(business_zone()).date()).days)
    return [
        describe(r._replace(figure=r.figure + elapsed) if r.code == "silence" else r)
        for r in top_reasons(stored, n)
    ]
