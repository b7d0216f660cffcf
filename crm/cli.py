"""``flask crm ...``: the command-line face of the same domain functions."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from crm import labels
from crm.extensions import db
from crm.models.enums import BranchStage, Role
from crm.services import demo, planner, staffing, tiering
from crm.services.inputs import InvalidInput


@click.group("crm")
def crm_group():
    """Bancassurance CRM administration."""


def _fail(error: InvalidInput) -> None:
    db.session.rollback()
    for field, message in error.errors.items():
        click.echo(f"{labels.FIELD.get(field, field)}: {message}", err=True)
    raise SystemExit(2)


@crm_group.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.STAFF.value)
@click.option("--branch", "branch_name", help="Branch name (required for staff and managers).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@with_appcontext
def create_user(username: str, role: str, branch_name: str | None, password: str):
    """Create a staff account."""
    try:
        staff = staffing.create_staff_by_names(None, username, role, password, branch_name)
    except InvalidInput as error:
        _fail(error)
    db.session.commit()
    click.echo(f"Created {staff.role.value} {staff.username}.")


@crm_group.command("create-branch")
@click.argument("name")
@click.option("--stage", type=click.Choice([s.value for s in BranchStage]), default="startup")
@with_appcontext
def create_branch(name: str, stage: str):
    """Create a branch (网点)."""
    try:
        branch = staffing.save_branch(None, {"name": name, "stage": stage})
    except InvalidInput as error:
        _fail(error)
    db.session.commit()
    click.echo(f"Created branch {branch.name}.")


@crm_group.command("demo")
@click.option("--customers", default=1000, show_default=True, type=click.IntRange(0, 2_000_000))
@click.option("--seed", default=2026, show_default=True, type=int)
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) if data exists.")
@with_appcontext
def demo_command(customers: int, seed: int, if_empty: bool):
    """Fill an empty database with a demo bank."""
    if not demo.database_is_empty():
        if if_empty:
            click.echo("Database already has data; demo data not loaded.")
            return
        raise click.ClickException(
            "The database already has data; demo data goes into an empty one."
        )
    summary = demo.generate(customers=customers, seed=seed)
    db.session.commit()
    click.echo(
        f"Demo bank: {summary.branches} branches, {summary.staff} staff, "
        f"{summary.customers} customers, {summary.policies} policies."
    )


@crm_group.command("demo-logins")
def demo_logins():
    """Print the demo accounts."""
    click.echo("Demo logins (username / password):")
    for username, password, who in demo.demo_logins():
        click.echo(f"  {username:<10} {password}   {who}")


def _print_moves(summary) -> None:
    click.echo(f"Examined {summary.examined} customers; {summary.moved} moved.")
    for (source, target), count in sorted(summary.moves.items(), key=lambda kv: -kv[1]):
        click.echo(f"  {source or '(new)':>9} -> {target:<9} {count}")


def _with_progress(label: str, run):
    with click.progressbar(length=1, label=label, show_pos=False) as bar:
        state = {"done": 0}

        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - state["done"])
            state["done"] = done

        return run(progress)


@crm_group.command("settings")
@click.option("--capability-threshold", help="Liquid assets (CNY) from which capability is high.")
@click.option("--willingness-threshold", help="Willingness score (1-100) from which it is high.")
@with_appcontext
def settings_command(capability_threshold: str | None, willingness_threshold: str | None):
    """Show the tiering thresholds, or change them and re-tier everyone."""
    current = tiering.current_thresholds()
    if capability_threshold is None and willingness_threshold is None:
        click.echo(f"capability threshold:  {current.capability} CNY")
        click.echo(f"willingness threshold: {current.willingness}")
        return
    try:
        wanted = tiering.parse_thresholds(
            current.capability if capability_threshold is None else capability_threshold,
            current.willingness if willingness_threshold is None else willingness_threshold,
        )
    except InvalidInput as error:
        _fail(error)
    summary = _with_progress(
        "Re-tiering", lambda progress: tiering.change_thresholds(None, wanted, progress)
    )
    click.echo(f"Thresholds now {wanted.capability} CNY and {wanted.willingness}.")
    _print_moves(summary)


@crm_group.command("retier")
@with_appcontext
def retier_command():
    """Re-tier every customer under the current thresholds (idempotent)."""
    thresholds = tiering.current_thresholds()
    summary = _with_progress(
        "Re-tiering", lambda progress: tiering.retier_all(thresholds, progress=progress)
    )
    _print_moves(summary)


@crm_group.command("plan")
@click.option(
    "--days",
    type=click.IntRange(0, 366),
    help="Plan this many days ahead (default: CRM_PLAN_HORIZON_DAYS, 28).",
)
@with_appcontext
def plan_command(days: int | None):
    """Fill every customer's plan from the cadence rules (idempotent: twice plans nothing twice)."""
    from datetime import timedelta

    from crm.services.clock import local_today

    today = local_today()
    until = planner.horizon(today) if days is None else today + timedelta(days=days)
    summary = _with_progress(
        "Planning",
        lambda progress: planner.plan_contacts(until, today=today, progress=progress),
    )
    click.echo(
        f"Planned {summary.planned} experiences up to {until.isoformat()}; "
        f"cancelled {summary.cancelled} the customers' quadrants no longer allow."
    )


@crm_group.command("scheduler")
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
