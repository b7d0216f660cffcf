"""``flask crm ...``: the command-line face of the same domain functions."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from crm import labels
from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models.enums import BranchStage, Role
from crm.services.accounts import staffing
from crm.services.customers import tiering
from crm.services.planning import planner
from crm.services.simulation import demo


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

    from crm.core.clock import local_today

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


@crm_group.command("maturity-scan")
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
        f"Made {made} call-back tasks for policies maturing {start.isoformat()} to "
        f"{end.isoformat()}."
    )


@crm_group.command("simulate")
@click.option("--months", default=12, show_default=True, type=click.IntRange(1, 120))
@click.option("--seed", default=2026, show_default=True, type=int)
@click.option("--customers", default=1000, show_default=True, type=click.IntRange(1, 2_000_000))
@click.option(
    "--start",
    type=click.DateTime(["%Y-%m-%d"]),
    help="First simulated day (default: MONTHS before today, so the history ends yesterday).",
)
@with_appcontext
def simulate_command(months: int, seed: int, customers: int, start):
    """Fill an empty database with months of simulated history: the demo bank, then every
    day lived by the real planner, dispatcher, staff actions and follow-up (deterministic per
    seed; SMS go to the console provider)."""
    from crm.services.simulation import simulator

    try:
        summary = _with_progress(
            "Simulating",
            lambda progress: simulator.simulate(
                months,
                seed,
                customers=customers,
                start=start.date() if start else None,
                progress=progress,
            ),
        )
    except simulator.SimulationRefused as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        f"Simulated {summary.days} days ({summary.start.isoformat()} to "
        f"{summary.end.isoformat()}) over {summary.customers} customers."
    )
    for name, count in sorted(summary.counts.items()):
        click.echo(f"  {name.replace('_', ' ')}: {count}")


@crm_group.group("report")
def report_group():
    """Analytics reports: a notebook under analytics/ executed and saved as one HTML file."""


@report_group.command("migration")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option(
    "--out",
    default="report.html",
    show_default=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
)
@with_appcontext
def report_migration(start, end, out: Path):
    """Quadrant migration between two dates (matrix, flows, moves per cause, splits)."""
    from flask import current_app

    from analytics import report

    if start > end:
        raise click.BadParameter("the period ends before it starts", param_hint="--to")
    click.echo(f"Running the migration notebook for {start:%Y-%m-%d} to {end:%Y-%m-%d}…")
    try:
        written = report.render(
            "migration",
            out,
            database_url=current_app.config["SQLALCHEMY_DATABASE_URI"],
            start=start.date(),
            end=end.date(),
        )
    except report.ReportFailed as error:
        raise click.ClickException(f"The report could not be made: {error}") from error
    click.echo(f"Wrote {written}.")


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


@crm_group.group("api-token")
def api_token_group():
    """Issue and revoke tokens for the JSON API (/api/v1/)."""


@api_token_group.command("issue")
@click.argument("username")
@click.option("--name", required=True, help="What will use the token, such as 'reporting'.")
@with_appcontext
def api_token_issue(username: str, name: str):
    """Issue a token acting as USERNAME; it is printed this once (only its hash is kept)."""
    from crm.services.accounts import api_tokens

    staff = api_tokens.staff_named(username)
    if staff is None:
        raise click.ClickException(f"No staff member {username!r}.")
    try:
        token, plaintext = api_tokens.issue(None, staff, name)
    except InvalidInput as error:
        _fail(error)
    db.session.commit()
    click.echo(f"Token {token.id} ({token.prefix}…) for {staff.username}, shown once:", err=True)
    click.echo(plaintext)


@api_token_group.command("revoke")
@click.argument("token_id", type=click.IntRange(1))
@with_appcontext
def api_token_revoke(token_id: int):
    """Revoke token TOKEN_ID: requests with it are refused from now on."""
    from crm.services.accounts import api_tokens

    token = api_tokens.get(token_id)
    if token is None:
        raise click.ClickException(f"No token {token_id}.")
    try:
        api_tokens.revoke(None, token)
    except InvalidInput as error:
        _fail(error)
    db.session.commit()
    click.echo(f"Revoked token {token.id} ({token.prefix}…) of {token.staff.username}.")


@crm_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--valid-only",
    is_flag=True,
    help="Import the valid rows and write the others to a rejects file (default: all or nothing).",
)
@click.option(
    "--rejects",
    "rejects_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the rows not imported, with a reason column "
    "(default with --valid-only: FILE's name with -rejects, next to it).",
)
@click.option(
    "--as",
    "username",
    help="The manager or admin importing (default: the system; each row then names its owner).",
)
@with_appcontext
def import_command(file: Path, valid_only: bool, rejects_path: Path | None, username: str | None):
    """Import customers, and their policies, from a CSV or XLSX file: checked first, then
    written all or nothing (or only the valid rows)."""
    import sqlalchemy as sa

    from crm.models import Staff
    from crm.services.transfer import importer

    user = None
    if username is not None:
        user = db.session.scalar(sa.select(Staff).where(Staff.username == username))
        if user is None:
            raise click.ClickException(f"No staff member {username!r}.")
        if not importer.may_import(user):
            raise click.ClickException("Only managers and admins import customers.")
    mode = importer.Mode.VALID_ROWS if valid_only else importer.Mode.ALL_OR_NOTHING
    data = file.read_bytes()
    bars: dict[str, tuple] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in bars:
            for bar, _ in bars.values():
                bar.render_finish()
            label = "Checking" if stage == "check" else "Writing"
            bar = click.progressbar(length=max(total, 1), label=label)
            bars[stage] = (bar, [0])
        bar, state = bars[stage]
        bar.length = max(total, 1)
        bar.update(done - state[0])
        state[0] = done

    try:
        report = importer.import_file(user, file.name, data, mode, progress=progress)
    except InvalidInput as error:
        _fail(error)
    finally:
        for bar, _ in bars.values():
            bar.render_finish()
    for problem in report.problems:
        where = f"line {problem.line}" + (f", {problem.column}" if problem.column else "")
        click.echo(f"{where}: {problem.message}", err=True)
    click.echo(
        f"{report.rows} rows read: {report.customers} customers and {report.policies} "
        f"policies valid, {len(report.rejected_lines)} rows with problems."
    )
    if report.problems and (valid_only or rejects_path is not None):
        name, content, _ = importer.rejects_file(report, data)
        target = rejects_path or file.with_name(name)
        target.write_bytes(content)
        click.echo(f"Rows not imported, with the reasons: {target}")
    if not report.written:
        db.session.rollback()
        if report.problems and mode == importer.Mode.ALL_OR_NOTHING:
            click.echo("Nothing imported: fix the rows above, or use --valid-only.", err=True)
        else:
            click.echo("Nothing imported: no valid rows.", err=True)
        raise SystemExit(2)
    db.session.commit()
    click.echo(f"Imported {report.created} customers and {report.policies_created} policies.")
