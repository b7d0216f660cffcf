"""The occasions calendar (节日与生日): the next 30 days of one's customers' occasions."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from crm.core.clock import local_today
from crm.services.occasions import upcoming

bp = Blueprint("occasions", __name__)


@bp.route("/occasions")
@login_required
def index():
    today = local_today()
    return render_template(
        "occasions/index.html",
        today=today,
        days=upcoming.DAYS_AHEAD,
        occasions=upcoming.upcoming(current_user, today),
    )
