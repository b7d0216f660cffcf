"""``flask crm experiment ...``: holdout experiments from the shell: create a design (with
what it can detect), start, stop, and read the report."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _

from crm import labels
from crm.cli.terminal import fail
from crm.core.inputs import InvalidInput


@click.group("experiment")
def experiment_group():
    """Holdout experiments: withhold a touchpoint category from a random share of customers."""


def _load(experiment_id: int):
    from crm.services.experiments import design

    experiment = design.get_experiment(experiment_id)
    if experiment is None:
        raise click.UsageError(_("There is no experiment %(id)d.", id=experiment_id))
    return experiment


def _power_line(estimate) -> str:
    from crm.services.experiments import analysis

    if estimate.detectable is None:
        return _(
            "The %(count)d customers covered are too few, or their history too uniform, to"
            " detect any difference.",
            count=estimate.customers,
        )
    binary = estimate.metric in analysis.BINARY
    line = _(
        "Detectable at 80%% power and 5%% significance: %(difference)s (%(treated)d treated"
        " as usual, %(held)d held out; history: %(base)s).",
        difference=f"{estimate.detectable * 100:.1f} pp"
        if binary
        else f"{estimate.detectable:,.2f}",
        treated=estimate.treatment,
        held=estimate.holdout,
        base=f"{estimate.baseline * 100:.1f}%" if binary else f"{estimate.baseline:,.2f}",
    )
    if not estimate.useful:
        line += "\n" + _("This design can detect nothing useful: cover more customers.")
    return line


@experiment_group.command("create")
@click.option("--name", required=True)
@click.option("--hypothesis", default="")
@click.option("--category", required=True, help="routine, visit, event, premium_event, …")
@click.option("--quadrants", required=True, help="Comma-separated, e.g. develop,maintain.")
@click.option("--branches", default="", help="Comma-separated branch ids; none: every branch.")
@click.option("--holdout", required=True, help="The share held out, 0.05 to 0.5.")
@click.option(
    "--metric",
    required=True,
    help="upward_move, willingness_change, policy_bought, premium or lost.",
)
@click.option("--horizon-days", required=True)
@with_appcontext
def create_command(name, hypothesis, category, quadrants, branches, holdout, metric, horizon_days):
    """Save an experiment's design as a draft and say what it can detect."""
    from crm.extensions import db
    from crm.services.experiments import design, power

    data = {
        "name": name,
        "hypothesis": hypothesis,
        "category": category,
        "quadrants": quadrants,
        "branch_ids": branches,
        "holdout_share": holdout,
        "metric": metric,
        "horizon_days": horizon_days,
    }
    try:
        experiment = design.create_experiment(None, data)
    except InvalidInput as error:
        fail(error)
    db.session.commit()
    click.echo(_("Experiment %(id)d saved as a draft.", id=experiment.id))
    click.echo(_power_line(power.power_of_design(experiment)))


@experiment_group.command("start")
@click.argument("experiment_id", type=int)
@with_appcontext
def start_command(experiment_id: int):
    """Start an experiment: every customer it covers gets an arm."""
    from crm.extensions import db
    from crm.services.experiments import design

    experiment = _load(experiment_id)
    try:
        assigned = design.start_experiment(None, experiment)
    except InvalidInput as error:
        fail(error)
    db.session.commit()
    click.echo(_("Experiment started: %(count)d customers assigned.", count=assigned))


@experiment_group.command("stop")
@click.argument("experiment_id", type=int)
@with_appcontext
def stop_command(experiment_id: int):
    """Stop a running experiment (early, if before its horizon)."""
    from crm.extensions import db
    from crm.services.experiments import design

    experiment = _load(experiment_id)
    try:
        design.stop_experiment(None, experiment)
    except InvalidInput as error:
        fail(error)
    db.session.commit()
    click.echo(_("Experiment stopped: the holdout is planned as usual again."))


def _interval(interval, binary: bool) -> str:
    if interval is None:
        return "—"
    if binary:
        return (
            f"{interval.estimate * 100:+.1f} pp "
            f"[{interval.low * 100:+.1f}, {interval.high * 100:+.1f}]"
        )
    return f"{interval.estimate:+,.2f} [{interval.low:+,.2f}, {interval.high:+,.2f}]"


def _mean(value, binary: bool) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.1f}%" if binary else f"{value:,.2f}"


@experiment_group.command("report")
@click.argument("experiment_id", type=int)
@with_appcontext
def report_command(experiment_id: int):
    """The experiment's report: counts per arm, and after the horizon its figures."""
    from crm.services.experiments import analysis

    experiment = _load(experiment_id)
    report = analysis.report(experiment)
    click.echo(
        f"{experiment.name} · {labels.EXPERIMENT_STATUS[experiment.status]} · "
        f"{labels.TOUCHPOINT[experiment.category]}"
    )
    for arm, count in report.counts.items():
        click.echo(f"  {labels.ARM[arm]}: {count}")
    click.echo(_("Contamination: %(count)d", count=report.contamination))
    if experiment.started_on is not None and report.peeking:
        click.echo(
            _(
                "The horizon (%(day)s) is not reached yet: only the counts are shown, since"
                " reading results early makes false findings far more likely.",
                day=report.horizon_end,
            )
        )
        return
    if report.stopped_early:
        click.echo(_("Stopped before the horizon (%(day)s) was reached.", day=report.horizon_end))
    if report.primary is None:
        return
    methods = {
        analysis.WALD: _("Wald interval for a difference of two proportions"),
        analysis.WELCH: _("Welch's t interval for a difference of two means"),
    }
    for figures in [report.primary, *report.secondary]:
        binary = figures.metric in analysis.BINARY
        kind = _("secondary") if figures.secondary else _("primary")
        click.echo(f"{labels.METRIC[figures.metric]} ({kind})")
        click.echo(
            f"  {labels.ARM['treatment']}: {_mean(figures.treatment.mean, binary)}"
            f"  {labels.ARM['holdout']}: {_mean(figures.holdout.mean, binary)}"
        )
        click.echo(
            _("  Difference, 95%% interval: %(text)s", text=_interval(figures.difference, binary))
        )
        click.echo(
            _("  Per ¥10,000 spent: %(text)s", text=_interval(figures.uplift_per_10k, binary))
        )
    primary = report.primary
    if primary.difference is not None:
        click.echo(_("Method: %(method)s", method=methods[primary.difference.method]))
    click.echo(
        _(
            "Spent: %(treated)s CNY treated as usual, %(held)s CNY held out.",
            treated=f"{primary.treatment.cost:,.2f}",
            held=f"{primary.holdout.cost:,.2f}",
        )
    )
