"""Manager analytics over the CRM's history (客户分层迁移, 体验效果, 满期回访).

Small, tested functions that notebooks (``analytics/*.ipynb``) and the HTML report call:

- ``load``: pseudonymised frames from the app's database (customers by a stable hashed id);
- ``quadrants``: quadrant as of a date, transition matrices, moves per cause and per group;
- ``effectiveness``: which touchpoint categories were followed by upward moves, at what cost;
- ``budget``: budget use and spend per quadrant;
- ``followup``: call-back quotas, seed 003's targets, complaint SLA;
- ``charts``: heatmap and flow chart of a matrix;
- ``language``: the report's language forced in the kernel, codes by their labels;
- ``scope``: one branch's rows, and the sentence for a period the data cannot answer;
- ``report``: a notebook executed and rendered to one self-contained HTML file.

Importing the package does nothing else: no app is built and no database is opened until
``connect`` is called.
"""

from __future__ import annotations

import importlib
from datetime import date, timedelta

# Each name from the submodule that holds it, imported on first use (PEP 562): the web
# workers import ``analytics.delivery`` for the report pages, and must not pay pandas's memory
# for it; notebooks write ``from analytics import quadrant_as_of`` as before.
_WHERE = {
    "budget_use": "budget",
    "spend": "budget",
    "effectiveness": "effectiveness",
    "followed_by_upward_move": "effectiveness",
    "against_targets": "followup",
    "callback_days": "followup",
    "callback_quota": "followup",
    "complaint_sla": "followup",
    "outcomes": "followup",
    "speak": "language",
    "budget_usage": "load",
    "callbacks": "load",
    "complaints": "load",
    "connect": "load",
    "customers": "load",
    "experiences": "load",
    "quadrant_events": "load",
    "LEVEL": "quadrants",
    "QUADRANTS": "quadrants",
    "direction": "quadrants",
    "is_upward": "quadrants",
    "moves": "quadrants",
    "moves_per": "quadrants",
    "moves_per_cause": "quadrants",
    "quadrant_as_of": "quadrants",
    "row_shares": "quadrants",
    "transition_matrix": "quadrants",
    "before_the_data": "scope",
    "in_branch": "scope",
    "nothing_happened": "scope",
}


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'analytics' has no attribute {name!r}")
    loaded = importlib.import_module(f"analytics.{module}")
    # Bind every name of the part at once: importing ``analytics.effectiveness`` has just set
    # the package's ``effectiveness`` to that module, which must stay the function.
    for other, where in _WHERE.items():
        if where == module:
            globals()[other] = getattr(loaded, other)
    return globals()[name]


def period(start: str | date | None, end: str | date | None, today: date) -> tuple[date, date]:
    """A report's period from its parameters: ``end`` defaults to ``today``, ``start`` to a
    year before ``end``; dates may be ISO strings."""
    end_day = date.fromisoformat(end) if isinstance(end, str) and end else end or today
    start_day = (
        date.fromisoformat(start)
        if isinstance(start, str) and start
        else start or end_day - timedelta(days=365)
    )
    if start_day > end_day:
        raise ValueError(f"the period starts ({start_day}) after it ends ({end_day})")
    return start_day, end_day


__all__ = [
    "LEVEL",
    "QUADRANTS",
    "against_targets",
    "before_the_data",
    "budget_usage",
    "budget_use",
    "callback_days",
    "callback_quota",
    "callbacks",
    "complaint_sla",
    "complaints",
    "connect",
    "customers",
    "direction",
    "effectiveness",
    "experiences",
    "followed_by_upward_move",
    "in_branch",
    "is_upward",
    "moves",
    "moves_per",
    "moves_per_cause",
    "nothing_happened",
    "outcomes",
    "period",
    "quadrant_as_of",
    "quadrant_events",
    "row_shares",
    "speak",
    "spend",
    "transition_matrix",
]
