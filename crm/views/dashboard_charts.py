"""The dashboard's charts as data for crm/static/dashboard.js: every label already in the
reader's language, every number the same as in the table beside the chart."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import pgettext

from crm.services.followup import targets
from crm.services.management.dashboard import QUADRANTS, Board
from crm.views.helpers import label

TEN_THOUSAND = Decimal(10_000)  # assets are read in 万元, as the branch reports them


def _number(value) -> float | None:
    return None if value is None else float(value)


def quadrant_names() -> list[str]:
    return [label("quadrant", q) for q in QUADRANTS]


def in_wan(amount: Decimal) -> Decimal:
    """Yuan as 万元 (ten thousands), to one decimal place."""
    return (amount / TEN_THOUSAND).quantize(Decimal("0.1"))


def charts(board: Board) -> dict[str, dict]:
    """One spec per chart, by the id of its place on the page."""
    months = [m.month.key for m in board.book]
    names = quadrant_names()
    moves = board.moves
    return {
        "quadrants": {
            "kind": "stacked-bar",
            "x": months,
            "y_name": _("Customers"),
            "series": [
                {"name": n, "data": [m.customers[q] for m in board.book]}
                for q, n in zip(QUADRANTS, names, strict=True)
            ],
        },
        "migrations": {
            "kind": "heatmap",
            "x": names,
            "y": names,
            "x_name": pgettext("quadrant move", "To"),
            "y_name": pgettext("quadrant move", "From"),
            "series_name": _("Moves"),
            "data": [
                [j, i, moves[source][target]]
                for i, source in enumerate(QUADRANTS)
                for j, target in enumerate(QUADRANTS)
                if source != target
            ],
        },
        "assets": {
            "kind": "line",
            "x": months,
            "y_name": _("Liquid assets (¥10k)"),
            "series": [
                {"name": n, "data": [_number(in_wan(m.assets[q])) for m in board.book]}
                for q, n in zip(QUADRANTS, names, strict=True)
            ],
        },
        "budget": {
            "kind": "bar",
            "x": names,
            "y_name": _("Share of the 12-month limit used (%)"),
            "percent": True,
            "series": [
                {
                    "name": _("Used"),
                    "data": [_number(line.share_used) for line in board.budget],
                }
            ],
        },
        "followup": {
            "kind": "line",
            "x": [m.key for m, _o in board.followup],
            "y_name": "%",
            "percent": True,
            "series": [
                {
                    "name": str(measure.heading % {"n": target}),
                    "data": [_number(outcome.rate(measure)) for _m, outcome in board.followup],
                    "target": _number(target),
                }
                for measure, target in _measures()
            ],
        },
        "complaints": {
            "kind": "stacked-bar",
            "x": [c.month.key for c in board.complaints],
            "y_name": _("Complaints opened"),
            "series": [
                {
                    "name": _("Answered within the limit"),
                    "data": [c.on_time for c in board.complaints],
                },
                {"name": _("Answered late"), "data": [c.late for c in board.complaints]},
                {"name": _("Still open"), "data": [c.still_open for c in board.complaints]},
            ],
        },
    }


def _measures():
    configured = targets.targets_config()
    return [(m, configured[m.key]) for m in targets.MEASURES]


def measures_with_targets():
    """Seed 003's measures and their configured targets, for the page's table."""
    return _measures()


@dataclass
class Directions:
    up: int = 0
    down: int = 0
    lateral: int = 0


def directions(moves) -> Directions:
    """A month's moves up, down and sideways on the grid, in the notebooks' order of the
    quadrants (``analytics.quadrants.LEVEL``)."""
    from analytics.quadrants import LEVEL

    result = Directions()
    for source, row in moves.items():
        for target, count in row.items():
            low, high = LEVEL[source.value], LEVEL[target.value]
            if high > low:
                result.up += count
            elif high < low:
                result.down += count
            elif source != target:
                result.lateral += count
    return result
