"""The today page (今日工作台): where staff land after logging in."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from crm.services.advice import today as today_service

bp = Blueprint("today", __name__)


@bp.route("/today")
@login_required
def index():
    return render_template("today/index.html", page=today_service.today_page(current_user))
