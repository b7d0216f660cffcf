"""An experiment's design and its life: draft → running → stopped → analysed.

Everything that decides what the experiment can show (category, scope, holdout share, the
primary metric and its horizon) is fixed before the start and locked from then on: a design
changed after its first figures is how goalposts move. Stopping early is allowed and
recorded; the report then says the horizon was not reached.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError

from crm.core import audit
from crm.core.clock import local_today
from crm.core.inputs import (
    InvalidInput,
    as_id,
    refuse_control_characters,
    refuse_too_long,
)
from crm.extensions import db
from crm.models import Branch, Customer, Staff
from crm.models.base import utcnow
from crm.models.enums import Quadrant, Touchpoint
from crm.models.experiment import Experiment, ExperimentStatus, Metric
from crm.services.experiments import assignment, outcomes
from crm.services.planning import planner

HOLDOUT_MIN = Decimal("0.05")
HOLDOUT_MAX = Decimal("0.50")
HORIZON_MAX_DAYS = 3 * 366
NAME_LIMIT = 120
HYPOTHESIS_LIMIT = 2000
DESIGN_FIELDS = (
    "name",
    "hypothesis",
    "category",
    "quadrants",
    "branch_ids",
    "holdout_share",
    "metric",
    "horizon_days",
)


def _listed(value: Any) -> list[str]:
    """A list given as a list or as comma-separated text."""
    if value is None:
        return []
    if isinstance(value, str):
        value = value.replace("，", ",").split(",")
    return [str(v).strip() for v in value if str(v).strip()]


def _share(value: Any) -> Decimal | None:
    """The holdout share as a fraction (0.2), or as a percentage (20 or "20%")."""
    text = str(value if value is not None else "").strip()
    percent = text.endswith(("%", "％"))
    try:
        share = Decimal(text.rstrip("%％").strip())
    except InvalidOperation:
        return None
    if not share.is_finite():
        return None
    if percent or share > 1:
        share = share / 100
    return share


def read_design(data: Mapping[str, Any]) -> dict[str, Any]:
    """The design's fields, checked; every refusal at once, nothing written."""
    errors: dict[str, Any] = {}
    name = (data.get("name") or "").strip()
    hypothesis = (data.get("hypothesis") or "").strip() or None
    if not name:
        errors["name"] = _l("Give the experiment a name.")
    refuse_too_long(
        {"name": (name, NAME_LIMIT), "hypothesis": (hypothesis, HYPOTHESIS_LIMIT)}, errors
    )
    refuse_control_characters({"name": name, "hypothesis": hypothesis}, errors)
    category = None
    try:
        category = Touchpoint(data.get("category") or "")
    except ValueError:
        errors["category"] = _l("Choose one of the listed values.")
    quadrants = _listed(data.get("quadrants"))
    if not quadrants:
        errors["quadrants"] = _l("Choose at least one quadrant the experiment covers.")
    elif any(q not in {m.value for m in Quadrant} for q in quadrants):
        errors["quadrants"] = _l("Choose one of the listed values.")
    branch_ids = [as_id(b) for b in _listed(data.get("branch_ids"))]
    if None in branch_ids or (
        branch_ids
        and db.session.scalar(sa.select(sa.func.count()).where(Branch.id.in_(branch_ids)))
        != len(set(branch_ids))
    ):
        errors["branch_ids"] = _l("Choose one of the listed values.")
    share = _share(data.get("holdout_share"))
    if share is None or not HOLDOUT_MIN <= share <= HOLDOUT_MAX:
        errors["holdout_share"] = _l("The holdout share is between 5% and 50%.")
    try:
        metric = Metric(data.get("metric") or "")
    except ValueError:
        errors["metric"] = _l("Choose one of the listed metrics.")
        metric = None
    horizon = data.get("horizon_days")
    try:
        horizon = int(str(horizon).strip())
    except (TypeError, ValueError):
        horizon = None
    if horizon is None or not 0 < horizon <= HORIZON_MAX_DAYS:
        errors["horizon_days"] = _l(
            "The horizon is a whole number of days from 1 to %(most)d.", most=HORIZON_MAX_DAYS
        )
    if errors:
        raise InvalidInput(errors)
    return {
        "name": name,
        "hypothesis": hypothesis,
        "category": category,
        "quadrants": sorted(set(quadrants), key=[q.value for q in Quadrant].index),
        "branch_ids": sorted(set(branch_ids)),
        "holdout_share": share.quantize(Decimal("0.01")),
        "metric": metric,
        "horizon_days": horizon,
    }


def create_experiment(actor: Staff | None, data: Mapping[str, Any]) -> Experiment:
    """A new experiment in draft; the caller commits."""
    design = read_design(data)
    experiment = Experiment(
        **design,
        status=ExperimentStatus.DRAFT,
        key=secrets.token_hex(32),
        created_by_id=actor.id if actor else None,
        version=1,
    )
    db.session.add(experiment)
    db.session.flush()
    audit.record(
        actor,
        "experiment",
        experiment.id,
        "create",
        {k: (None, v) for k, v in design.items() if v not in (None, [])},
        version=experiment.version,
    )
    return experiment


def _flush_change() -> None:
    """Write the change; two managers acting on one experiment at once: the second is told."""
    try:
        db.session.flush()
    except StaleDataError as error:
        raise InvalidInput(
            {"": _l("Someone else changed this experiment. Reload it and try again.")}
        ) from error


def _refuse_unless(experiment: Experiment, *statuses: ExperimentStatus) -> None:
    if experiment.status not in statuses:
        raise InvalidInput(
            {"status": _l("The experiment's design is locked once it has started.")}
            if ExperimentStatus.DRAFT in statuses
            else {"status": _l("The experiment is not running.")}
        )


def update_design(
    actor: Staff | None, experiment: Experiment, data: Mapping[str, Any], expected_version: int
) -> None:
    """Change a draft's design; refused once it runs (no moving the goalposts)."""
    _refuse_unless(experiment, ExperimentStatus.DRAFT)
    design = read_design(data)
    if experiment.version != expected_version:
        raise InvalidInput(
            {"": _l("Someone else changed this experiment. Reload it and try again.")}
        )
    changes = {
        k: (getattr(experiment, k), v) for k, v in design.items() if getattr(experiment, k) != v
    }
    for field, (_old, new) in changes.items():
        setattr(experiment, field, new)
    _flush_change()
    audit.record(actor, "experiment", experiment.id, "update", changes, version=experiment.version)


def overlaps(experiment: Experiment) -> Experiment | None:
    """A running experiment on the same category whose customers this one would share."""
    for other in db.session.scalars(
        sa.select(Experiment).where(
            Experiment.status == ExperimentStatus.RUNNING,
            Experiment.category == experiment.category,
            Experiment.id != experiment.id,
        )
    ):
        shared_quadrants = set(other.quadrants) & set(experiment.quadrants)
        shared_branches = (
            not other.branch_ids
            or not experiment.branch_ids
            or set(other.branch_ids) & set(experiment.branch_ids)
        )
        if shared_quadrants and shared_branches:
            return other
    return None


def start_experiment(actor: Staff | None, experiment: Experiment, today: date | None = None) -> int:
    """Start a draft: every eligible customer gets an arm; returns how many (no commit)."""
    today = today or local_today()
    _refuse_unless(experiment, ExperimentStatus.DRAFT)
    clash = overlaps(experiment)
    if clash is not None:
        raise InvalidInput(
            {
                "status": _l(
                    "Experiment %(name)s already withholds this category from these customers.",
                    name=clash.name,
                )
            }
        )
    anyone = sa.select(Customer.id).where(*assignment.eligible(experiment)).limit(1)
    if db.session.scalar(anyone) is None:
        raise InvalidInput({"quadrants": _l("No customer is in this experiment's scope.")})
    experiment.status = ExperimentStatus.RUNNING
    experiment.started_on = today
    _flush_change()
    assigned = assignment.assign_at_start(experiment, today)
    # What the planner had already planned of the category for the holdout goes at once.
    planner.cancel_disallowed(today, Customer.id.in_(assignment.holdout_ids(experiment.id)))
    audit.record(
        actor,
        "experiment",
        experiment.id,
        "start",
        {"status": (ExperimentStatus.DRAFT, ExperimentStatus.RUNNING), "started_on": (None, today)},
        version=experiment.version,
    )
    return assigned


def stop_experiment(actor: Staff | None, experiment: Experiment, today: date | None = None) -> None:
    """Stop a running experiment, early or at its horizon; the holdout is planned again."""
    today = today or local_today()
    _refuse_unless(experiment, ExperimentStatus.RUNNING)
    experiment.status = ExperimentStatus.STOPPED
    experiment.stopped_on = max(today, experiment.started_on)
    _flush_change()
    # The window may have shortened: what was held from the stop on no longer counts.
    outcomes.recount_spent(experiment)
    audit.record(
        actor,
        "experiment",
        experiment.id,
        "stop",
        {
            "status": (ExperimentStatus.RUNNING, ExperimentStatus.STOPPED),
            "stopped_on": (None, experiment.stopped_on),
        },
        version=experiment.version,
    )


def mark_analysed(actor: Staff | None, experiment: Experiment, today: date | None = None) -> None:
    """A stopped experiment whose report has been read and acted on."""
    _refuse_unless(experiment, ExperimentStatus.STOPPED)
    experiment.status = ExperimentStatus.ANALYSED
    experiment.analysed_at = utcnow()
    _flush_change()
    audit.record(
        actor,
        "experiment",
        experiment.id,
        "analyse",
        {"status": (ExperimentStatus.STOPPED, ExperimentStatus.ANALYSED)},
        version=experiment.version,
    )


def horizon_end(experiment: Experiment) -> date | None:
    """The day the primary metric is read: the start plus the horizon."""
    if experiment.started_on is None:
        return None
    return experiment.started_on + timedelta(days=experiment.horizon_days)


def get_experiment(experiment_id: int) -> Experiment | None:
    return db.session.get(Experiment, experiment_id)


def list_experiments() -> list[Experiment]:
    """Every experiment, the newest first."""
    return list(db.session.scalars(sa.select(Experiment).order_by(Experiment.id.desc())))


def branch_names(experiment: Experiment) -> list[str]:
    """The names of the branches the experiment covers (none: every branch)."""
    if not experiment.branch_ids:
        return []
    return list(
        db.session.scalars(
            sa.select(Branch.name).where(Branch.id.in_(experiment.branch_ids)).order_by(Branch.id)
        )
    )
