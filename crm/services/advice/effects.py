"""What each touchpoint category has done for each quadrant, in the bank's own history.

The expected effect of an experience is the share of such experiences (same quadrant, same
category, held in the last 365 days and recorded) that the customer answered positively or
enthusiastically; a no-show counts as held without effect. The quadrant is the one the
customer was in when it was held, as far as the history says it cheaply: the quadrant an
experience moved the customer from (its quadrant event), else the customer's quadrant now.

Where the history is thin the share is not trusted alone: it is the mean of a Beta posterior
whose prior is worth ``PRIOR_WEIGHT`` experiences centred on ``PRIOR_SHARE``: seed 004's
order of the categories, the dearer and more personal moving customers more, near the shares
the simulator's response model gives (``crm.services.simulation.model``). With no history
the prior alone speaks; after a few hundred experiences the bank's own share does. Routine SMS are
closed without a response, so they keep their prior.

The posterior mean of Beta(a + positive, b + held − positive) is the closed form
(a + positive) / (a + b + held); scipy, which the tests hold it to, would cost each web
worker some 80 MB and most of a second to import for one division.

Reading the whole history is an aggregate over every experience of the year (seconds at a
million customers), too heavy for a page, and a year's shares hardly move in a day: the nightly
job ``effect_history`` (and ``flask crm effect-history``) works it out and stores it
(``crm.models.EffectHistory``, one row per quadrant and category), and pages read those rows
(kept by each process for the rest of the day once today's is stored). Until it has been
stored once (a fresh install, before its first night) a page works the history out itself,
once per business day per process. ``forget`` drops what a process keeps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import Customer, EffectHistory, Experience, QuadrantEvent
from crm.models.base import utcnow
from crm.models.enums import ExperienceStatus, Quadrant, Response, Touchpoint

HISTORY = timedelta(days=365)
PRIOR_WEIGHT = 20
PRIOR_SHARE = {
    Touchpoint.ROUTINE: 0.05,
    Touchpoint.VISIT: 0.30,
    Touchpoint.EVENT: 0.38,
    Touchpoint.PREMIUM_EVENT: 0.50,
    Touchpoint.LIFESTYLE: 0.60,
    Touchpoint.BESPOKE: 0.70,
}
POSITIVE = (Response.ENTHUSIASTIC, Response.POSITIVE)
_CACHE_KEY = "crm.advice.effects"


@dataclass(frozen=True)
class Effect:
    """The expected share of positive responses, and how many held experiences it rests on."""

    held: int
    positive: int
    share: float


def expected(category: Touchpoint, held: int, positive: int) -> Effect:
    """The posterior mean share of positive responses after ``positive`` of ``held``."""
    a = PRIOR_SHARE[category] * PRIOR_WEIGHT + positive
    b = (1 - PRIOR_SHARE[category]) * PRIOR_WEIGHT + held - positive
    return Effect(held, positive, a / (a + b))


def history(today: date) -> dict[tuple[Quadrant, Touchpoint], tuple[int, int]]:
    """(held, positive) per quadrant and category over the year before ``today``."""
    positive = sa.case((Experience.response.in_(POSITIVE), 1), else_=0)
    counted = (
        Experience.recorded_at.is_not(None),
        Experience.status.in_((ExperienceStatus.DONE, ExperienceStatus.NO_SHOW)),
        Experience.held_on > today - HISTORY,
    )
    figures = (Experience.category, sa.func.count(), sa.func.sum(positive))
    table: dict[tuple[Quadrant, Touchpoint], list[int]] = {}
    for quadrant, category, held, good in db.session.execute(
        sa.select(Customer.quadrant, *figures)
        .join(Customer, Customer.id == Experience.customer_id)
        .where(*counted)
        .group_by(Customer.quadrant, Experience.category)
    ):
        table[(Quadrant(quadrant), Touchpoint(category))] = [held, int(good or 0)]
    # Experiences that moved their customer count for the quadrant they moved them from. Read
    # apart, from the moves' side: most quadrant events (first placements) name no experience,
    # and a join from each experience to them made SQLite scan the events for every one.
    for was, now, category, held, good in db.session.execute(
        sa.select(QuadrantEvent.from_quadrant, Customer.quadrant, *figures)
        .join(Experience, Experience.id == QuadrantEvent.experience_id)
        .join(Customer, Customer.id == Experience.customer_id)
        .where(QuadrantEvent.experience_id.is_not(None), *counted)
        .group_by(QuadrantEvent.from_quadrant, Customer.quadrant, Experience.category)
    ):
        if was is None or was == now:
            continue
        moved = (held, int(good or 0))
        current = table.setdefault((Quadrant(now), Touchpoint(category)), [0, 0])
        before = table.setdefault((Quadrant(was), Touchpoint(category)), [0, 0])
        current[0], current[1] = current[0] - moved[0], current[1] - moved[1]
        before[0], before[1] = before[0] + moved[0], before[1] + moved[1]
    return {key: (held, good) for key, (held, good) in table.items()}


def store_history(today: date | None = None) -> date:
    """Work out the year's history before ``today`` and store it in place of the last one, a
    row for every quadrant and category (none held included); the caller commits."""
    today = today or local_today()
    seen = history(today)
    now = utcnow()
    db.session.execute(sa.delete(EffectHistory))
    db.session.execute(
        sa.insert(EffectHistory),
        [
            {
                "quadrant": q,
                "category": c,
                "held": seen.get((q, c), (0, 0))[0],
                "positive": seen.get((q, c), (0, 0))[1],
                "as_of": today,
                "computed_at": now,
            }
            for q in Quadrant
            for c in Touchpoint
        ],
    )
    forget()
    return today


def stored_history() -> tuple[date, dict[tuple[Quadrant, Touchpoint], tuple[int, int]]] | None:
    """The history the nightly job stored, with the day it was worked out for, or None if it
    never has been."""
    rows = db.session.execute(
        sa.select(
            EffectHistory.as_of,
            EffectHistory.quadrant,
            EffectHistory.category,
            EffectHistory.held,
            EffectHistory.positive,
        )
    ).all()
    if not rows:
        return None
    seen = {(Quadrant(q), Touchpoint(c)): (held, good) for _, q, c, held, good in rows}
    return max(row.as_of for row in rows), seen


def effects(today: date | None = None) -> dict[tuple[Quadrant, Touchpoint], Effect]:
    """The expected effect of every category for every quadrant, from the stored history.

    Once today's is stored it stands until tomorrow: each process keeps it for the day. Before
    tonight's job has run, yesterday's is read on each call (a couple of dozen rows), so that
    the new one is taken up as soon as it is stored. Where none was ever stored the history is
    worked out here, once a day per process."""
    today = today or local_today()
    kept = current_app.extensions.get(_CACHE_KEY)
    if kept is not None and kept[0] == today:
        return kept[1]
    stored = stored_history()
    if stored is None:
        seen, settled = history(today), True
    else:
        as_of, seen = stored
        settled = as_of >= today
    table = {(q, c): expected(c, *seen.get((q, c), (0, 0))) for q in Quadrant for c in Touchpoint}
    if settled:
        current_app.extensions[_CACHE_KEY] = (today, table)
    return table


def forget() -> None:
    """Read the history afresh next time (after a simulation, or in tests)."""
    current_app.extensions.pop(_CACHE_KEY, None)
