"""Signing in and out, and the language preference."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from crm.extensions import db
from crm.forms import LoginForm
from crm.services.accounts import auth, staffing
from crm.views import signin

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only follow ``next`` within this site (no open redirect)."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("today.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("today.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            staff = auth.authenticate(form.username.data, form.password.data, request.remote_addr)
        except auth.LoginThrottled as locked:
            form.form_errors.append(
                _("Too many failed attempts. Try again in %(n)d minutes.", n=locked.minutes)
            )
            status = 429
        else:
            if staff is None:
                form.form_errors.append(_("Wrong username or password."))
                status = 401
            else:
                signin.sign_in(staff)
                return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form), status


# POST only: a link or image on another site must not be able to log staff out.
@bp.route("/logout", methods=["POST"])
def logout():
    signin.sign_out()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/language", methods=["POST"])
@login_required
def language():
    if staffing.choose_language(current_user, request.form.get("language") or None):
        db.session.commit()
    return redirect(_safe_next(request.form.get("next")))
