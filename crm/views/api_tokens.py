"""Admins issue and revoke the staff's API tokens. Others get 404 (as on every admin page)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_login import current_user
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import Optional

from crm.core.inputs import InvalidInput, as_id
from crm.extensions import db
from crm.forms import DomainForm, Form
from crm.models import Staff
from crm.services.accounts import api_tokens
from crm.views.roles import admin_required

bp = Blueprint("api_tokens", __name__, url_prefix="/admin/api-tokens")


class IssueForm(DomainForm):
    staff_id = SelectField(_l("Staff member"), coerce=as_id, validate_choice=False)
    name = StringField(
        lazy_pgettext("api token", "Name"),  # what it is for: 用途, not a person's 姓名
        validators=[Optional()],
        description=_l("What will use it, such as 'reporting' or 'core banking sync'."),
    )


class RevokeForm(Form):
    """Only the CSRF token: the button says which token."""


def _page(form: IssueForm, issued=None, status: int = 200):
    staff = db.session.scalars(
        sa.select(Staff).where(Staff.is_active_account.is_(True)).order_by(Staff.username)
    ).all()
    form.staff_id.choices = [
        SelectChoice(s.id, _("%(text)s (%(note)s)", text=s.display_name, note=s.username))
        for s in staff
    ]
    response = render_template(
        "admin/api_tokens.html",
        form=form,
        revoke_form=RevokeForm(),
        tokens=api_tokens.tokens(),
        issued=issued,
    )
    headers = {"Cache-Control": "no-store"} if issued else {}
    return response, status, headers


@bp.route("", methods=["GET"])
@admin_required
def index():
    return _page(IssueForm())


@bp.route("", methods=["POST"])
@admin_required
def issue():
    """Issue a token and show it this once: it is not stored, so it is not in the session
    or a flash message either, and the page is not cached."""
    form = IssueForm()
    if form.validate_on_submit():
        staff = db.session.get(Staff, form.staff_id.data or 0)
        try:
            if staff is None:
                raise InvalidInput({"staff_id": _l("Choose one of the listed values.")})
            token, plaintext = api_tokens.issue(current_user, staff, form.name.data)
        except InvalidInput as error:
            db.session.rollback()
            form.show(error)
        else:
            db.session.commit()
            return _page(IssueForm(formdata=None), issued=(token, plaintext))
    return _page(form, status=200)


@bp.route("/<id:token_id>/revoke", methods=["POST"])
@admin_required
def revoke(token_id: int):
    token = api_tokens.get(token_id)
    if token is None:
        abort(404)
    if RevokeForm().validate_on_submit():
        try:
            api_tokens.revoke(current_user, token)
        except InvalidInput as error:
            db.session.rollback()
            for message in error.errors.values():
                flash(str(message), "info")
        else:
            db.session.commit()
            flash(_("Token %(prefix)s… revoked.", prefix=token.prefix), "success")
    return redirect(url_for("api_tokens.index"))
