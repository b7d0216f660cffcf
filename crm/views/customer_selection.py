"""Bulk actions on the customer list (批量操作): tag, untag, invite to an event.

The list page is a form without JavaScript: a checkbox per row, and "all on this page"
(the page's ids travel as hidden fields, so the server needs no script to know them).
Nothing here adds a query to drawing the list: the events to invite to are read on the
next page, once the user has chosen to invite.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.services.customers import selection
from crm.services.experiences import event_types, group_invitations, guest_lists, plans

bp = Blueprint("selection", __name__)


def _back() -> str:
    """The list page the selection was made on (only the customer list, never elsewhere)."""
    target = request.form.get("next", "")
    parts = urlsplit(target)
    if not parts.scheme and not parts.netloc and parts.path == url_for("customers.index"):
        return target
    return url_for("customers.index")


def _ticked() -> list[str]:
    if request.form.get("all_on_page"):
        return request.form.getlist("page_ids")
    return request.form.getlist("ids")


def _refused(error: InvalidInput) -> None:
    flash(" ".join(dict.fromkeys(str(m) for m in error.errors.values())), "error")


@bp.route("/customers/selection", methods=["POST"])
@login_required
def act():
    """The list's bulk bar: add or remove a tag at once, or go on to choose an event."""
    action = request.form.get("action")
    try:
        if action == "invite":
            customers = selection.selected_customers(current_user, _ticked())
            return _choose_event(customers)
        if action == "untag":
            change = selection.untag_selected(current_user, _ticked(), request.form.get("tag"))
            done = ngettext(
                "Tag “%(tag)s” removed from %(num)d customer.",
                "Tag “%(tag)s” removed from %(num)d customers.",
                change.changed,
                tag=change.tag,
            )
            others = ngettext(
                "%(num)d other did not have it.",
                "%(num)d others did not have it.",
                change.selected - change.changed,
            )
        elif action == "tag":
            change = selection.tag_selected(current_user, _ticked(), request.form.get("tag"))
            done = ngettext(
                "Tag “%(tag)s” added to %(num)d customer.",
                "Tag “%(tag)s” added to %(num)d customers.",
                change.changed,
                tag=change.tag,
            )
            others = ngettext(
                "%(num)d other already had it.",
                "%(num)d others already had it.",
                change.selected - change.changed,
            )
        else:
            raise InvalidInput({"action": _("Choose what to do with the selected customers.")})
    except InvalidInput as error:
        db.session.rollback()
        _refused(error)
        return redirect(_back())
    db.session.commit()
    if change.selected > change.changed:
        # Two sentences, joined as each language joins them (no space in Chinese).
        done = _("%(done)s %(others)s", done=done, others=others)
    flash(done, "success")
    return redirect(_back())


def _choose_event(customers, error: InvalidInput | None = None, status: int = 200):
    """The page to choose the event; after a refusal, with why, the event chosen kept, and
    for customers outside the tiers the event's type suits, the box to invite them anyway."""
    return (
        render_template(
            "customers/invite_selected.html",
            customers=customers,
            events=group_invitations.open_events(current_user),
            may_approve=plans.may_approve(current_user),
            back=_back(),
            error=" ".join(dict.fromkeys(str(m) for m in error.errors.values())) if error else None,
            outside=error.customers if isinstance(error, event_types.OutsideTiers) else [],
            chosen=request.form.get("event", type=int),
        ),
        status,
    )


@bp.route("/customers/selection/invite", methods=["POST"])
@login_required
def invite():
    """Invite the selected customers to the chosen event: who was invited, who was not and why."""
    try:
        customers = selection.selected_customers(current_user, request.form.getlist("ids"))
    except InvalidInput as error:
        _refused(error)
        return redirect(_back())
    try:
        event = group_invitations.chosen_event(current_user, request.form.get("event"))
        outcome = guest_lists.invite_customers(
            current_user,
            event,
            customers,
            request.form.get("reason"),
            outside_tiers_confirmed=bool(request.form.get("outside_tiers_confirmed")),
        )
    except InvalidInput as error:
        db.session.rollback()
        customers = selection.selected_customers(current_user, request.form.getlist("ids"))
        return _choose_event(customers, error=error, status=422)
    db.session.commit()
    return render_template(
        "customers/invited_selected.html", event=event, outcome=outcome, back=_back()
    )
