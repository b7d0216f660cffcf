"""Holdout experiments over the API, read only, for managers and admins: each design, its
status and how many customers each arm holds. Staff are listed none, as the pages are closed
to them."""

from __future__ import annotations

import marshmallow as ma
import sqlalchemy as sa

from crm.api.auth import caller
from crm.api.blueprint import Blueprint
from crm.api.fields import Enum, choice
from crm.api.paging import PageArgs, page_of, page_schema
from crm.models.enums import Quadrant, Role, Touchpoint
from crm.models.experiment import Experiment, ExperimentStatus, Metric
from crm.services.experiments import assignment, design

blp = Blueprint(
    "Experiments",
    __name__,
    description="Holdout experiments (对照实验) on touchpoint categories (read only).",
)


class ExperimentOut(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    hypothesis = ma.fields.String(allow_none=True)
    category = Enum(Touchpoint)
    quadrants = ma.fields.List(ma.fields.String(metadata={"enum": [q.value for q in Quadrant]}))
    branch_ids = ma.fields.List(
        ma.fields.Integer(), metadata={"description": "Empty: every branch."}
    )
    holdout_share = ma.fields.Decimal(as_string=True, metadata={"example": "0.20"})
    metric = Enum(Metric)
    horizon_days = ma.fields.Integer()
    status = Enum(ExperimentStatus)
    started_on = ma.fields.Date(allow_none=True)
    stopped_on = ma.fields.Date(allow_none=True)
    horizon_end = ma.fields.Function(
        lambda e: e.started_on and design.horizon_end(e).isoformat(),
        allow_none=True,
        metadata={"type": "string", "format": "date"},
    )
    customers = ma.fields.Function(
        lambda e: {arm.value: n for arm, n in assignment.arm_counts(e.id).items()},
        metadata={"description": "Customers per arm."},
    )


class ExperimentListArgs(PageArgs):
    status = choice(ExperimentStatus)


ExperimentPage = page_schema(ExperimentOut, "ExperimentPage")


@blp.route("/experiments")
@blp.arguments(ExperimentListArgs, location="query")
@blp.response(200, ExperimentPage)
def list_experiments(args):
    """Experiments, oldest first; filter by status. Managers and admins see every one,
    staff none (as the pages, which they cannot open)."""
    query = sa.select(Experiment)
    if caller().role == Role.STAFF:
        query = query.where(sa.false())
    if args.get("status") is not None:
        query = query.where(Experiment.status == ExperimentStatus(args["status"]))
    return page_of(query, Experiment.id, args)
