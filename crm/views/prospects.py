"""Prospects (潜在客户): list, add, open, revise, move along, discard, convert into a dossier."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from crm.core import access, audit, revisions
from crm.core.clock import local_today
from crm.core.inputs import InvalidInput, as_id
from crm.extensions import db
from crm.models import AuditLog, Prospect
from crm.models.enums import ProspectStatus
from crm.prospect_forms import ConvertForm, MoveForm, ProspectForm
from crm.services.experiences import events
from crm.services.sales import conversion, prospects
from crm.views.forms import refuse_stale, version_of

bp = Blueprint("prospects", __name__)


def _prospect_or_404(prospect_id: int) -> Prospect:
    prospect = prospects.prospect_for(current_user, prospect_id)
    if prospect is None:
        abort(404)
    return prospect


def _status_filter() -> ProspectStatus | None:
    try:
        return ProspectStatus(request.args.get("status", ""))
    except ValueError:
        return None


@bp.route("/prospects")
@login_required
def index():
    status = _status_filter()
    rows, older = prospects.list_prospects(
        current_user,
        status,
        before=as_id(request.args.get("before")),
        limit=current_app.config["CRM_PAGE_SIZE"],
    )
    return render_template("prospects/index.html", prospects=rows, status=status, older=older)


def _form(prospect: Prospect | None = None) -> ProspectForm:
    if request.method == "POST" or prospect is None:
        form = ProspectForm()
    else:
        form = ProspectForm(data=prospects.form_values(prospect))
    listing = events.events_for(current_user, local_today())
    known = listing.upcoming + listing.recent
    form.fill_choices(access.assignable_owners(current_user), known)
    if prospect is not None:
        current = {c.value for c in form.owner_id.choices}
        if str(prospect.owner_id) not in current:
            form.owner_id.choices.append(
                SelectChoice(str(prospect.owner_id), prospect.owner.display_name)
            )
        event = prospect.group_event
        if event is not None and event not in known:
            form.group_event_id.choices.append(
                SelectChoice(str(event.id), f"{event.title} · {event.held_on.isoformat()}")
            )
    elif request.method == "GET":
        form.owner_id.data = str(current_user.id)
    return form


def _existing_of(error: InvalidInput):
    return getattr(error, "existing", None)


@bp.route("/prospects/new", methods=["GET", "POST"])
@login_required
def new():
    form = _form()
    existing = None
    if form.validate_on_submit():
        try:
            prospect = prospects.create_prospect(current_user, form.domain_data())
        except InvalidInput as error:
            db.session.rollback()
            form.show(error)
            existing = _existing_of(error)
        else:
            db.session.commit()
            flash(_("Prospect added."), "success")
            return redirect(url_for("prospects.show", prospect_id=prospect.id))
    return render_template("prospects/form.html", form=form, prospect=None, existing=existing)


def _history(prospect: Prospect) -> list[AuditLog]:
    return list(
        db.session.scalars(
            db.select(AuditLog)
            .where(AuditLog.entity == "prospect", AuditLog.entity_id == prospect.id)
            .order_by(AuditLog.id.desc())
        )
    )


def _page(prospect: Prospect, move: MoveForm | None = None, status: int = 200):
    if move is None:
        move = MoveForm()
        move.version.data = prospect.version
    rows = _history(prospect)
    html = render_template(
        "prospects/show.html",
        prospect=prospect,
        move=move,
        next_status=prospects.next_status(prospect),
        history=rows,
        names=audit.referenced_names(rows, lambda c: access.can_see_customer(current_user, c)),
    )
    return html, status


@bp.route("/prospects/<id:prospect_id>")
@login_required
def show(prospect_id: int):
    return _page(_prospect_or_404(prospect_id))


@bp.route("/prospects/<id:prospect_id>/edit", methods=["GET", "POST"])
@login_required
def edit(prospect_id: int):
    prospect = _prospect_or_404(prospect_id)
    if prospect.status == ProspectStatus.CONVERTED:
        return redirect(url_for("prospects.show", prospect_id=prospect.id))
    form = _form(prospect)
    existing = missed = None
    if form.validate_on_submit():
        try:
            changes = prospects.update_prospect(
                current_user, prospect, form.domain_data(), version_of(form.version.data)
            )
        except InvalidInput as error:
            db.session.rollback()
            form.show(error)
            existing = _existing_of(error)
        except revisions.StaleDossier as stale:
            prospect, missed = stale.customer, stale.missed
            refuse_stale(form, _("Someone else saved this prospect while you were editing it."))
            form.version.data = db.session.get(Prospect, prospect_id).version
        else:
            db.session.commit()
            flash(_("Prospect saved.") if changes else _("Nothing changed."), "success")
            return redirect(url_for("prospects.show", prospect_id=prospect.id))
    elif request.method == "GET":
        form.version.data = prospect.version
    return render_template(
        "prospects/form.html", form=form, prospect=prospect, existing=existing, missed=missed
    )


@bp.route("/prospects/<id:prospect_id>/status", methods=["POST"])
@login_required
def move(prospect_id: int):
    """One step on, discarded with a reason, or reopened."""
    prospect = _prospect_or_404(prospect_id)
    form = MoveForm()
    if form.validate_on_submit():
        try:
            prospects.move_prospect(
                current_user,
                prospect,
                form.status.data,
                version_of(form.version.data),
                form.discard_reason.data,
            )
        except InvalidInput as error:
            db.session.rollback()
            form.show(error)
            form.version.data = _prospect_or_404(prospect_id).version
        except revisions.StaleDossier:
            refuse_stale(form, _("Someone else changed this prospect meanwhile."))
            form.version.data = _prospect_or_404(prospect_id).version
        else:
            db.session.commit()
            flash(_("Prospect status saved."), "success")
            return redirect(url_for("prospects.show", prospect_id=prospect_id))
    return _page(_prospect_or_404(prospect_id), move=form)


@bp.route("/prospects/<id:prospect_id>/convert", methods=["GET", "POST"])
@login_required
def convert(prospect_id: int):
    """Open the prospect's dossier with what is known, completed by the staff member."""
    prospect = _prospect_or_404(prospect_id)
    if prospect.status == ProspectStatus.CONVERTED:
        return redirect(url_for("customers.show", customer_id=prospect.customer_id))
    if request.method == "POST":
        form = ConvertForm()
    else:
        form = ConvertForm(data=conversion.dossier_defaults(prospect))
        form.prospect_version.data = prospect.version
    form.fill_choices(access.assignable_owners(current_user), access.visible_branches(current_user))
    if form.validate_on_submit():
        try:
            customer = conversion.convert_prospect(
                current_user,
                prospect,
                form.domain_data(),
                version_of(form.prospect_version.data),
            )
        except InvalidInput as error:
            db.session.rollback()
            form.show(error)
            # The number is the prospect's and not on the form: say above it what is wrong.
            form.form_errors.extend(form.phone.errors)
        except revisions.StaleDossier:
            refuse_stale(form, _("Someone else changed this prospect meanwhile."))
            form.prospect_version.data = _prospect_or_404(prospect_id).version
        else:
            db.session.commit()
            flash(_("Dossier opened from the prospect."), "success")
            return redirect(url_for("customers.show", customer_id=customer.id))
    return render_template("prospects/convert.html", form=form, prospect=prospect)
