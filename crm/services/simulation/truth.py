"""A known truth for the simulated bank (模拟真值): what each experience held really does.

``flask crm simulate … --effects FILE`` reads a TOML file that gives, per touchpoint
category and quadrant, the true effect of one experience held (attended, not a no-show) on
the customer's willingness, in points::

    # Each visit held moves willingness by +4 for develop and maintain customers, +2 for
    # the others; general events do nothing at all.
    [visit]
    develop = 4
    maintain = 4
    "*" = 2          # every quadrant not named

    [event]
    "*" = 0

For a cell the file names, the simulated customer still answers as the customer model
draws (``model.RESPONSES``: the record looks as it always does), but the staff member
records the willingness the truth gives, the old score moved by exactly the effect, in
place of the response's configured delta. A fractional effect is rounded up or down at
random in the proportion that keeps its mean (2.5: 2 or 3, as often), and the score stays
within 0–100; a no-show moves nothing. Cells the file leaves out keep the model. So a
category with effect 0 does nothing to willingness, and a simulated experiment on it has
the answer "no difference".

Every effect applied is kept in the ``Ledger`` (customer, category, day, points actually
added after the 0–100 bounds): what a holdout forgoes is read from it, never from the
report that estimates it.
"""

from __future__ import annotations

import math
import random
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from flask_babel import gettext as _

from crm.models.enums import Quadrant, Touchpoint
from crm.services.customers import willingness

ANY = "*"
LIMIT = 100.0  # points: a larger effect than the whole scale is a typing mistake


class EffectsRefused(ValueError):
    """The effects file cannot be read as effects; the message says why."""


@dataclass(frozen=True)
class Effects:
    """The true effect, in willingness points, of one experience held per (quadrant, category)."""

    points: Mapping[tuple[Quadrant, Touchpoint], float]

    def of(self, quadrant: Quadrant | str, category: Touchpoint | str) -> float | None:
        """The effect of the cell, or None where the customer model decides."""
        return self.points.get((Quadrant(quadrant), Touchpoint(category)))


@dataclass(frozen=True)
class Applied:
    customer_id: int
    category: Touchpoint
    day: date
    points: int


@dataclass
class Ledger:
    """Every true effect applied in a simulation, in the order they happened."""

    entries: list[Applied] = field(default_factory=list)

    def add(self, entry: Applied) -> None:
        self.entries.append(entry)

    def points_by_customer(
        self, start: date, end: date, category: Touchpoint | str | None = None
    ) -> dict[int, int]:
        """Points added to each customer on days ``start`` ≤ day < ``end``: by one category,
        or by every one (None)."""
        category = None if category is None else Touchpoint(category)
        added: dict[int, int] = {}
        for entry in self.entries:
            if category in (None, entry.category) and start <= entry.day < end:
                added[entry.customer_id] = added.get(entry.customer_id, 0) + entry.points
        return added

    def totals(self) -> dict[Touchpoint, tuple[int, int]]:
        """(experiences, points) per category."""
        found: dict[Touchpoint, tuple[int, int]] = {}
        for entry in self.entries:
            held, points = found.get(entry.category, (0, 0))
            found[entry.category] = (held + 1, points + entry.points)
        return found


def read_effects(path: Path | str) -> Effects:
    """The effects the file at ``path`` gives, or ``EffectsRefused`` naming what is wrong."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise EffectsRefused(_("Cannot read the effects file: %(error)s", error=error)) from error
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise EffectsRefused(_("The effects file is not TOML: %(error)s", error=error)) from error
    return parse_effects(raw)


def parse_effects(raw: Mapping) -> Effects:
    """Effects from the file's tables: category → quadrant (or "*") → points."""
    points: dict[tuple[Quadrant, Touchpoint], float] = {}
    for category_key, cells in raw.items():
        category = _member(Touchpoint, category_key, _("touchpoint category"))
        if not isinstance(cells, Mapping):
            raise EffectsRefused(
                _("[%(category)s] needs quadrant = points lines.", category=category_key)
            )
        named = {k: v for k, v in cells.items() if k != ANY}
        for quadrant_key, value in named.items():
            quadrant = _member(Quadrant, quadrant_key, _("quadrant"))
            points[(quadrant, category)] = _points(category_key, quadrant_key, value)
        if ANY in cells:
            value = _points(category_key, ANY, cells[ANY])
            for quadrant in Quadrant:
                points.setdefault((quadrant, category), value)
    return Effects(points)


def _member(kind, key: str, what: str):
    try:
        return kind(key)
    except ValueError:
        choices = ", ".join(m.value for m in kind)
        raise EffectsRefused(
            _(
                "Unknown %(what)s %(key)s in the effects file; choose from %(choices)s.",
                what=what,
                key=key,
                choices=choices,
            )
        ) from None


def _points(category: str, quadrant: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        value = None
    if value is None or abs(value) > LIMIT:
        raise EffectsRefused(
            _(
                "%(category)s.%(quadrant)s: the effect is a number of willingness points "
                "from -100 to 100.",
                category=category,
                quadrant=quadrant,
            )
        )
    return float(value)


def whole_points(rng: random.Random, effect: float) -> int:
    """``effect`` as whole points, rounded up with the chance of its fraction (mean kept);
    a whole effect draws nothing, so an integer file leaves the seeded history's draws alone."""
    low = math.floor(effect)
    fraction = effect - low
    if fraction == 0:
        return int(low)
    return int(low) + (1 if rng.random() < fraction else 0)


def willingness_after(rng: random.Random, score: int, effect: float) -> int:
    """The willingness the truth leaves after one experience held, within 0–100."""
    return willingness.within_range(score + whole_points(rng, effect))


def categories(effects: Effects | None) -> Iterable[Touchpoint]:
    return sorted({c for _, c in (effects.points if effects else {})}, key=list(Touchpoint).index)
