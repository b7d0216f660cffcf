"""The quadrant grid page: four cells, each a door into the filtered customer list."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from crm.services import access
from crm.services.grid import RECENT_DAYS, grid
from crm.services.inputs import as_id

bp = Blueprint("grid", __name__)


@bp.route("/grid")
@login_required
def index():
    branch, owner = as_id(request.args.get("branch")), as_id(request.args.get("owner"))
    return render_template(
        "grid/index.html",
        cells=grid(current_user, branch=branch, owner=owner),
        branch=branch,
        owner=owner,
        branches=access.visible_branches(current_user),
        owners=access.assignable_owners(current_user),
        recent_days=RECENT_DAYS,
    )
