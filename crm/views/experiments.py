"""Holdout experiments (对照实验) for managers and admins: the list, a new design with its
power, the report, and starting and stopping one. Others get 404."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField, widgets

from crm import labels
from crm.core import access
from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.forms import DomainForm, Form
from crm.models.experiment import Experiment, ExperimentStatus
from crm.services.experiments import analysis, design, power
from crm.views.roles import manager_required

bp = Blueprint("experiments", __name__, url_prefix="/experiments")


class Checkboxes(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class ExperimentForm(DomainForm):
    name = StringField(_l("Experiment name"))
    hypothesis = TextAreaField(_l("Hypothesis"), description=_l("What you expect, and why."))
    # The design's rules say what is wrong with a value that is not one of these.
    category = SelectField(
        _l("Touchpoint withheld"),
        choices=labels.choices(labels.TOUCHPOINT),
        default="visit",
        validate_choice=False,
    )
    quadrants = Checkboxes(
        _l("Quadrants covered"), choices=labels.choices(labels.QUADRANT), validate_choice=False
    )
    branch_ids = Checkboxes(
        _l("Branches covered"),
        description=_l("None ticked: every branch."),
        validate_choice=False,
    )
    holdout_share = StringField(
        _l("Holdout share (%)"),
        default="20",
        description=_l("Of the customers covered: from 5% to 50%."),
    )
    metric = SelectField(
        _l("Primary metric"), choices=labels.choices(labels.METRIC), validate_choice=False
    )
    horizon_days = StringField(_l("Horizon (days)"), default="90")


def _get_or_404(experiment_id: int) -> Experiment:
    experiment = design.get_experiment(experiment_id)
    if experiment is None:
        abort(404)
    return experiment


def _new_form() -> ExperimentForm:
    form = ExperimentForm()
    form.branch_ids.choices = [(str(b.id), b.name) for b in access.visible_branches(current_user)]
    return form


@bp.route("")
@manager_required
def index():
    return render_template("experiments/index.html", experiments=design.list_experiments())


@bp.route("/new", methods=["GET", "POST"])
@manager_required
def new():
    """A design; "Check power" shows what it can detect without saving it."""
    form = _new_form()
    estimate = None
    if form.validate_on_submit():
        try:
            if request.form.get("action") == "check":
                estimate = power.power_of_design(design.read_design(form.domain_data()))
            else:
                experiment = design.create_experiment(current_user, form.domain_data())
        except InvalidInput as error:
            db.session.rollback()
            form.show(error)
        else:
            if estimate is None:
                db.session.commit()
                flash(
                    _("Experiment saved as a draft. Start it when the design is final."), "success"
                )
                return redirect(url_for("experiments.show", experiment_id=experiment.id))
    return render_template("experiments/new.html", form=form, estimate=estimate)


METHOD = {
    analysis.WALD: _l("the Wald interval for a difference of two proportions (statsmodels)"),
    analysis.WELCH: _l("Welch's t interval for a difference of two means (scipy)"),
}
COVARIATE = {
    "liquid_assets": _l("Liquid assets (CNY, mean)"),
    "willingness": _l("Willingness (mean)"),
    "age": _l("Age (mean)"),
}


@bp.route("/<id:experiment_id>")
@manager_required
def show(experiment_id: int):
    experiment = _get_or_404(experiment_id)
    report = analysis.report(experiment)
    draft = experiment.status == ExperimentStatus.DRAFT
    return render_template(
        "experiments/show.html",
        experiment=experiment,
        report=report,
        estimate=power.power_of_design(experiment) if draft else None,
        horizon_end=design.horizon_end(experiment),
        branch_names=design.branch_names(experiment),
        method_name=lambda method: METHOD.get(method, method),
        covariate_name=lambda name: COVARIATE.get(name, name),
        action_form=Form(),
    )


@bp.route("/<id:experiment_id>/<any(start, stop, analysed):action>", methods=["POST"])
@manager_required
def change(experiment_id: int, action: str):
    experiment = _get_or_404(experiment_id)
    if not Form().validate_on_submit():  # the CSRF token
        abort(400)
    try:
        if action == "start":
            assigned = design.start_experiment(current_user, experiment)
            message = _("Experiment started: %(count)d customers assigned.", count=assigned)
        elif action == "stop":
            design.stop_experiment(current_user, experiment)
            message = _("Experiment stopped: the holdout is planned as usual again.")
        else:
            design.mark_analysed(current_user, experiment)
            message = _("Experiment marked as analysed.")
    except InvalidInput as error:
        db.session.rollback()
        flash(" ".join(str(m) for m in error.errors.values()), "error")
    else:
        db.session.commit()
        flash(message, "success")
    return redirect(url_for("experiments.show", experiment_id=experiment.id))
