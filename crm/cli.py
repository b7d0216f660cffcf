"""``flask crm ...``: the command-line face of the same domain functions."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from crm import labels
from crm.extensions import db
from crm.models.enums import BranchStage, Role
from crm.services import demo, staffing
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
