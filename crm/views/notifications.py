"""Staff notifications (通知): the list with its unread count, and where reminders also go."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import BooleanField, StringField
from wtforms.validators import Optional

from crm.core.inputs import InvalidInput, as_id
from crm.extensions import db
from crm.forms import DomainForm
from crm.models import Notification
from crm.services.accounts import staffing
from crm.services.outreach import inbox

bp = Blueprint("notifications", __name__)

PAGE_SIZE = 50


class ContactForm(DomainForm):
    """Where a staff member's own reminders go, besides the notifications page."""

    phone = StringField(_l("Mobile phone"), validators=[Optional()])
    email = StringField(_l("E-mail"), validators=[Optional()])
    notify_by_sms = BooleanField(_l("Reminders by SMS"))
    notify_by_email = BooleanField(_l("Reminders by e-mail"))


@bp.app_context_processor
def unread_badge():
    """The navigation's unread count, asked for only when a signed-in page shows it."""

    def unread_notifications() -> int:
        if not current_user.is_authenticated:
            return 0
        return inbox.unread_count(current_user)

    return {"unread_notifications": unread_notifications}


def _own_notification_or_404(notification_id: int | None) -> Notification:
    notification = db.session.get(Notification, notification_id) if notification_id else None
    if notification is None or notification.staff_id != current_user.id:
        abort(404)
    return notification


@bp.route("/notifications")
@login_required
def index():
    before = as_id(request.args.get("before"))
    items = inbox.notifications_for(current_user, PAGE_SIZE + 1, before)
    return render_template(
        "notifications/index.html",
        items=items[:PAGE_SIZE],
        older=items[PAGE_SIZE - 1].id if len(items) > PAGE_SIZE else None,
        unread=inbox.unread_count(current_user),
    )


@bp.route("/notifications/read", methods=["POST"])
@login_required
def read():
    """Mark one notification read (``id``), or all of the user's own."""
    raw = request.form.get("id")
    if raw:
        notification = _own_notification_or_404(as_id(raw))
        inbox.mark_read(current_user, [notification.id])
    else:
        inbox.mark_read(current_user)
    db.session.commit()
    return redirect(url_for("notifications.index"))


@bp.route("/me/notifications", methods=["GET", "POST"])
@login_required
def settings():
    """A staff member's own phone, e-mail and the switches for reminders there."""
    me = current_user._get_current_object()
    form = ContactForm(obj=me if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            changes = staffing.update_contact(me, me, form.domain_data())
        except InvalidInput as error:
            db.session.rollback()
            form.show(error)
        else:
            db.session.commit()
            if changes:
                flash(_("Reminder settings saved."), "success")
            else:
                flash(_("Nothing changed."), "info")
            return redirect(url_for("notifications.settings"))
    return render_template("notifications/settings.html", form=form)
