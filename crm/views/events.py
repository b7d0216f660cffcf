"""Group events (一般活动, 高级活动): create, invite (one by one or a list), record attendance."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from wtforms import SelectChoice

from crm.core import access
from crm.core.clock import local_today
from crm.core.inputs import InvalidInput
from crm.event_forms import (
    AttendanceForm,
    CancelInvitationForm,
    GroupEventForm,
    GuestListForm,
    InviteForm,
)
from crm.extensions import db
from crm.models import Experience, GroupEvent
from crm.models.enums import EventType
from crm.prospect_forms import WalkInForm
from crm.services.customers import asset_tiers
from crm.services.experiences import event_types, events, guest_lists, invitations, plans
from crm.services.experiences.attendance import may_record_attendance, record_attendance
from crm.services.planning import holdouts
from crm.services.sales import walk_ins
from crm.views.forms import version_of
from crm.views.helpers import label
from crm.views.roles import admin_required

bp = Blueprint("events", __name__)


def _event_or_404(event_id: int) -> GroupEvent:
    """An event of the user's scope, or 404 whether it exists or not."""
    event = db.session.get(GroupEvent, event_id)
    if event is None or not events.can_see_event(current_user, event):
        abort(404)
    return event


@bp.route("/events")
@login_required
def index():
    today = local_today()
    return render_template(
        "events/index.html", listing=events.events_for(current_user, today), today=today
    )


@bp.route("/events/new", methods=["GET", "POST"])
@login_required
def new():
    form = GroupEventForm()
    form.fill_choices(access.visible_branches(current_user))
    form.event_type.choices = _type_choices()
    if request.method == "GET":
        form.held_on.data = local_today()
        form.branch_id.data = current_user.branch_id
    if form.validate_on_submit():
        try:
            event = events.create_event(current_user, form.domain_data())
        except InvalidInput as error:
            db.session.rollback()
            form.show(error)
        else:
            db.session.commit()
            flash(_("Event created. Invite your customers below."), "success")
            return redirect(url_for("events.show", event_id=event.id))
    return render_template("events/form.html", form=form)


def _suited_names(event_type: EventType, tiers: list, suited: dict) -> str:
    """The tiers an event type suits, as they read ("every asset tier" when it suits all)."""
    if all(t.number in suited[event_type] for t in tiers):
        return _("every asset tier")
    return _(", ").join(asset_tiers.label(t) for t in tiers if t.number in suited[event_type])


def _type_choices() -> list[SelectChoice]:
    """Each event type with the tiers it suits, as the form offers them."""
    tiers = asset_tiers.current_tiers()
    suited = event_types.suited_tiers(tiers)
    return [
        SelectChoice(
            t.value,
            _(
                "%(text)s (%(note)s)",
                text=label("event_type", t),
                note=_("suits %(tiers)s", tiers=_suited_names(t, tiers, suited)),
            ),
        )
        for t in EventType
    ]


def _suited(event: GroupEvent) -> str:
    """The tiers the event's type suits, as they read."""
    tiers = asset_tiers.current_tiers()
    return _suited_names(event.event_type, tiers, event_types.suited_tiers(tiers))


def _event_page(
    event: GroupEvent,
    invite=None,
    attendance=None,
    attended=None,
    walk_in=None,
    outside=None,
):
    if attendance is None:
        attendance = AttendanceForm()
        attendance.version.data = event.version
    guests = invitations.guests(event)
    find = request.args.get("find", "").strip()
    return render_template(
        "events/show.html",
        event=event,
        suited=_suited(event),
        find=find,
        found=guest_lists.find_guests(current_user, event, find) if find else None,
        invited_ids={g.customer_id for g in guests if events.holds_seat(g)},
        outside=outside,
        guests=guests,
        taken=invitations.seats_taken(event, guests),
        share=invitations.share_estimate(event),
        today=local_today(),
        invite=invite or InviteForm(),
        attendance=attendance,
        attended=attended,
        may_record=may_record_attendance(current_user, event),
        may_approve=plans.may_approve(current_user),
        walk_in=walk_in or WalkInForm(),
    )


@bp.route("/events/<id:event_id>")
@login_required
def show(event_id: int):
    return _event_page(_event_or_404(event_id))


@bp.route("/events/<id:event_id>/invite", methods=["POST"])
@login_required
def invite(event_id: int):
    event = _event_or_404(event_id)
    form = InviteForm()
    if form.validate_on_submit():
        try:
            customer = invitations.find_customer(current_user, form.customer_id.data)
            experience = invitations.invite(
                current_user,
                event,
                customer,
                form.approval_reason.data,
                outside_tiers_confirmed=form.outside_tiers_confirmed.data == "yes",
            )
        except event_types.OutsideTiers as question:
            db.session.rollback()
            return _event_page(_event_or_404(event_id), invite=form, outside=question)
        except InvalidInput as error:
            db.session.rollback()
            form.show(error)
        else:
            db.session.commit()
            if experience.approved_by_id == current_user.id and form.approval_reason.data:
                flash(_("%(name)s invited with your approval.", name=customer.name), "success")
            else:
                flash(_("%(name)s invited.", name=customer.name), "success")
            held_by = holdouts.holdout_experiment(customer.id, event.category)
            if held_by is not None:
                flash(
                    _(
                        "Experiment “%(experiment)s” holds %(name)s out of this category: the"
                        " invitation is counted as contamination.",
                        experiment=held_by.name,
                        name=customer.name,
                    ),
                    "warning",
                )
            return redirect(url_for("events.show", event_id=event.id, _anchor="guests"))
    return _event_page(_event_or_404(event_id), invite=form)


def _invitation_or_404(event: GroupEvent, experience_id: int) -> Experience:
    experience = db.session.get(Experience, experience_id)
    if (
        experience is None
        or experience.group_event_id != event.id
        or not access.can_see_customer(current_user, experience.customer)
    ):
        abort(404)
    return experience


@bp.route("/events/<id:event_id>/invitations/<id:experience_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel_invitation(event_id: int, experience_id: int):
    """Cancelling asks first: the page names whom and what, and its button cancels."""
    event = _event_or_404(event_id)
    experience = _invitation_or_404(event, experience_id)
    form = CancelInvitationForm()
    if not form.validate_on_submit():
        return render_template("events/cancel.html", event=event, invitation=experience, form=form)
    try:
        invitations.cancel_invitation(current_user, event, experience)
    except InvalidInput as error:
        db.session.rollback()
        for message in error.errors.values():
            flash(str(message), "error")
    else:
        db.session.commit()
        flash(_("Invitation cancelled."), "success")
    return redirect(url_for("events.show", event_id=event_id, _anchor="guests"))


@bp.route("/events/<id:event_id>/attendance", methods=["POST"])
@login_required
def attendance(event_id: int):
    event = _event_or_404(event_id)
    form = AttendanceForm()
    attended = request.form.getlist("attended")
    if form.validate_on_submit():
        try:
            record_attendance(current_user, event, attended, version_of(form.version.data))
        except InvalidInput as error:
            db.session.rollback()
            form.show(error)
            form.version.data = _event_or_404(event_id).version
        else:
            db.session.commit()
            flash(_("Attendance recorded. Now record each guest's response."), "success")
            return redirect(url_for("events.show", event_id=event.id, _anchor="guests"))
    return _event_page(_event_or_404(event_id), attendance=form, attended=set(attended))


@bp.route("/events/<id:event_id>/walk-ins", methods=["POST"])
@login_required
def add_walk_ins(event_id: int):
    """Walk-in guests added as prospects (seed 004's batch acquisition at events)."""
    event = _event_or_404(event_id)
    form = WalkInForm()
    if form.validate_on_submit():
        try:
            added = walk_ins.add_walk_ins(current_user, event, form.walk_in_guests.data)
        except InvalidInput as error:
            db.session.rollback()
            form.show(error)
        else:
            db.session.commit()
            flash(
                ngettext(
                    "%(num)d walk-in guest added as a prospect.",
                    "%(num)d walk-in guests added as prospects.",
                    len(added),
                ),
                "success",
            )
            return redirect(url_for("events.show", event_id=event.id, _anchor="walk-ins"))
    return _event_page(_event_or_404(event_id), walk_in=form)


@bp.route("/events/<id:event_id>/guest-list", methods=["GET", "POST"])
@login_required
def guest_list(event_id: int):
    """Invite a chosen list (quadrant, tag, asset tier) in one step: previewed first."""
    event = _event_or_404(event_id)
    form = GuestListForm(request.form if request.method == "POST" else request.args)
    form.fill_choices([(t.number, asset_tiers.label(t)) for t in asset_tiers.current_tiers()])
    result = done = outside = None
    if request.method == "POST" and form.validate():
        try:
            choice = guest_lists.read_choice(form.domain_data())
            result = guest_lists.invite_list(
                current_user,
                event,
                choice,
                form.approval_reason.data,
                outside_tiers_confirmed=form.outside_tiers_confirmed.data == "yes",
            )
        except event_types.OutsideTiers as question:
            db.session.rollback()
            outside = question
            result = guest_lists.preview(
                current_user, _event_or_404(event_id), choice, form.approval_reason.data
            )
        except InvalidInput as error:
            db.session.rollback()
            form.show(error)
        else:
            db.session.commit()
            done = True
            flash(
                ngettext(
                    "%(num)d customer invited.", "%(num)d customers invited.", len(result.invited)
                ),
                "success",
            )
    elif request.method == "GET" and request.args:
        try:
            choice = guest_lists.read_choice(form.domain_data())
            result = guest_lists.preview(current_user, event, choice)
        except InvalidInput as error:
            db.session.rollback()
            form.show(error)
    return render_template(
        "events/guest_list.html",
        event=_event_or_404(event_id),
        form=form,
        result=result,
        done=done,
        outside=outside,
        suited=_suited(event),
        seats_left=max(event.capacity - invitations.seats_taken(event), 0),
        may_approve=plans.may_approve(current_user),
    )


@bp.route("/admin/event-types", methods=["GET", "POST"])
@admin_required
def event_types_page():
    """Which asset tiers each group event type (活动类型) suits, audited."""
    seen, errors = event_types.fingerprint(), {}
    suited = event_types.suited_tiers()
    if request.method == "POST":
        chosen = {t.value: request.form.getlist(t.value) for t in EventType}
        try:
            event_types.save_suited_tiers(current_user, chosen, request.form.get("seen", ""))
        except InvalidInput as error:
            db.session.rollback()
            errors = error.errors
            suited = {t: {int(n) for n in chosen[t.value] if n.isdigit()} for t in EventType}
        else:
            db.session.commit()
            flash(_("Event types saved."), "success")
            return redirect(url_for("events.event_types_page"))
    return render_template(
        "admin/event_types.html",
        suited=suited,
        seen=seen,
        errors=errors,
        tiers=asset_tiers.current_tiers(),
        types=list(EventType),
    )
