"""The quadrant grid page: four cells, each a door into the filtered customer list."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from crm.core import access
from crm.core.inputs import as_id
from crm.models.enums import Channel
from crm.services.customers.grid import RECENT_DAYS, channel_split, grid

bp = Blueprint("grid", __name__)


@bp.route("/grid")
@login_required
def index():
    branch, owner = as_id(request.args.get("branch")), as_id(request.args.get("owner"))
    # An unknown channel is ignored, like an unknown quadrant on the customer list.
    channel = request.args.get("channel")
    channel = Channel(channel) if channel in set(Channel) else None
    return render_template(
        "grid/index.html",
        cells=grid(current_user, branch=branch, owner=owner, channel=channel),
        by_channel=channel_split(current_user, branch=branch, owner=owner, channel=channel),
        branch=branch,
        owner=owner,
        channel=channel,
        branches=access.visible_branches(current_user),
        owners=access.assignable_owners(current_user),
        recent_days=RECENT_DAYS,
    )
