"""``flask crm`` commands that keep the plan current: tiering thresholds and re-tiering,
planning contacts, the maturity scan, and the scheduler process that runs them periodically."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _

from crm import labels
from crm.cli.terminal import fail, with_progress
from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.services.customers import tiering
from crm.services.planning import planner


def _print_moves(summary) -> None:
    click.echo(
        _(
            "Examined %(examined)d customers; %(moved)d moved.",
            examined=summary.examined,
            moved=summary.moved,
        )
    )
    for (source, target), count in sorted(summary.moves.items(), key=lambda kv: -kv[1]):
        before = labels.QUADRANT.get(source, source) if source else _("new")
        click.echo(f"  {before} → {labels.QUADRANT.get(target, target)}  {count}")


@click.command("settings")
@click.option("--capability-threshold", help="Liquid assets (CNY) from which capability is high.")
@click.option("--willingness-threshold", help="Willingness score (1-100) from which it is high.")
@with_appcontext
def settings_command(capability_threshold: str | None, willingness_threshold: str | None):
    """Show the tiering thresholds, or change them and re-tier everyone."""
    current = tiering.current_thresholds()
    if capability_threshold is None and willingness_threshold is None:
        click.echo(_("Capability threshold: %(amount)s CNY", amount=current.capability))
        click.echo(_("Willingness threshold: %(score)s", score=current.willingness))
        return
    try:
        wanted = tiering.parse_thresholds(
            current.capability if capability_threshold is None else capability_threshold,
            current.willingness if willingness_threshold is None else willingness_threshold,
        )
        tiering.refuse_while_retiering()  # a change saved on the page is still running
    except InvalidInput as error:
        fail(error)
    summary = with_progress(
        _("Re-tiering"), lambda progress: tiering.change_thresholds(None, wanted, progress)
    )
    click.echo(
        _(
            "Thresholds now %(amount)s CNY and %(score)s.",
            amount=wanted.capability,
            score=wanted.willingness,
        )
    )
    _print_moves(summary)


@click.command("retier")
@with_appcontext
def retier_command():
    """Re-tier every customer under the current thresholds (idempotent)."""
    thresholds = tiering.current_thresholds()
    summary = with_progress(
        _("Re-tiering"), lambda progress: tiering.retier_all(thresholds, progress=progress)
    )
    _print_moves(summary)


@click.command("plan")
@click.option(
    "--days",
    type=click.IntRange(0, 366),
    help="Plan this many days ahead (default: CRM_PLAN_HORIZON_DAYS, 28).",
)
@with_appcontext
def plan_command(days: int | None):
    """Fill every customer's plan from the cadence rules (idempotent: twice plans nothing twice)."""
    from datetime import timedelta

    from crm.core.clock import local_today
    from crm.services.experiments import assignment

    today = local_today()
    until = planner.horizon(today) if days is None else today + timedelta(days=days)
    # A running experiment's newly eligible customers get their arm before the plan.
    assignment.assign_newcomers(today)
    db.session.commit()
    summary = with_progress(
        _("Planning"),
        lambda progress: planner.plan_contacts(until, today=today, progress=progress),
    )
    click.echo(
        _(
            "Planned %(planned)d experiences up to %(until)s; cancelled %(cancelled)d the "
            "customers' quadrants no longer allow.",
            planned=summary.planned,
            until=until.isoformat(),
            cancelled=summary.cancelled,
        )
    )


@click.command("maturity-scan")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), help="Scan as of this day.")
@with_appcontext
def maturity_scan_command(today):
    """Make the call-back tasks for policies maturing up to the end of next month (idempotent)."""
    from crm.core.clock import local_today
    from crm.services.followup import calls

    day = today.date() if today else local_today()
    made = calls.maturity_scan(day)
    db.session.commit()
    start, end = calls.scan_window(day)
    click.echo(
        _(
            "Made %(made)d call-back tasks for policies maturing %(start)s to %(end)s.",
            made=made,
            start=start.isoformat(),
            end=end.isoformat(),
        )
    )


@click.command("scheduler")
@with_appcontext
def scheduler_command():
    """Run the scheduler: the periodic jobs, in one active process (a second one stands by)."""
    import logging
    import sys

    from flask import current_app

    from crm.scheduler import runner

    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Each run is logged once, by crm.scheduler; APScheduler speaks up only about trouble.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    try:
        process = runner.SchedulerProcess(current_app._get_current_object())
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    runner.serve(process)
