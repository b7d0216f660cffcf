"""The pipeline's stages (线索 → 需求分析 → 方案建议 → 促成 → 成交 / 未成交) and the probability
each gives an opportunity of being won, which admins may change (weighted premium reads it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from crm.core import audit
from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import Setting, Staff
from crm.models.enums import OPEN_STAGES, SalesStage

KEY = "pipeline.probability."

# The trade's usual weights for a bancassurance pipeline: half the leads go nowhere, and a
# sale being closed is won three times in four.
DEFAULT_PROBABILITY = {
    SalesStage.LEAD: 10,
    SalesStage.NEEDS: 25,
    SalesStage.PROPOSAL: 50,
    SalesStage.CLOSING: 75,
}

# How far along each stage is: the funnel counts an opportunity as having reached every stage
# up to its furthest (a won one reached them all).
RANK = {**{stage: i for i, stage in enumerate(OPEN_STAGES)}, SalesStage.WON: len(OPEN_STAGES)}
FUNNEL_STAGES = (*OPEN_STAGES, SalesStage.WON)


def next_stage(stage: SalesStage) -> SalesStage | None:
    """The open stage after ``stage``; None from closing (促成), where the sale is recorded."""
    if stage not in OPEN_STAGES or stage == OPEN_STAGES[-1]:
        return None
    return OPEN_STAGES[OPEN_STAGES.index(stage) + 1]


def probabilities() -> dict[SalesStage, int]:
    """Each open stage's probability in percent (the defaults until an admin changes them)."""
    keys = [KEY + stage.value for stage in OPEN_STAGES]
    stored = dict(
        db.session.execute(sa.select(Setting.key, Setting.value).where(Setting.key.in_(keys))).all()
    )
    return {
        stage: int(stored.get(KEY + stage.value, DEFAULT_PROBABILITY[stage]))
        for stage in OPEN_STAGES
    }


def save_probabilities(actor: Staff, data: Mapping[str, Any]) -> dict:
    """Store the probabilities an admin typed, whole percentages 0–100 (audited)."""
    errors: dict[str, Any] = {}
    wanted: dict[SalesStage, int] = {}
    for stage in OPEN_STAGES:
        try:
            value = int(str(data.get(stage.value, "")).strip())
        except ValueError:
            value = -1
        if not 0 <= value <= 100:
            errors[stage.value] = _l("Enter a whole number from 0 to 100.")
        wanted[stage] = value
    if errors:
        raise InvalidInput(errors)
    before = probabilities()
    changes = audit.diff(
        {f"probability_{s.value}": v for s, v in before.items()},
        {f"probability_{s.value}": v for s, v in wanted.items()},
    )
    for stage, value in wanted.items():
        setting = db.session.get(Setting, KEY + stage.value) or Setting(key=KEY + stage.value)
        setting.value = str(value)
        setting.updated_by_id = actor.id
        db.session.add(setting)
    if changes:
        audit.record(actor, "setting", 0, "update", changes)
    return changes
