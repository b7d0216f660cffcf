"""``flask crm`` commands for who uses the CRM: branches, staff accounts and API tokens."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _

from crm import labels
from crm.cli.terminal import fail
from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models.enums import BranchStage, Role
from crm.services.accounts import staffing


@click.command("create-user")
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
        fail(error)
    db.session.commit()
    click.echo(
        _(
            "Created %(role)s %(username)s.",
            role=labels.ROLE.get(staff.role, staff.role.value),
            username=staff.username,
        )
    )


@click.command("create-branch")
@click.argument("name")
@click.option("--stage", type=click.Choice([s.value for s in BranchStage]), default="startup")
@with_appcontext
def create_branch(name: str, stage: str):
    """Create a branch (网点)."""
    try:
        branch = staffing.save_branch(None, {"name": name, "stage": stage})
    except InvalidInput as error:
        fail(error)
    db.session.commit()
    click.echo(_("Created branch %(name)s.", name=branch.name))


@click.group("api-token")
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
        raise click.ClickException(_("No staff member %(name)s.", name=repr(username)))
    try:
        token, plaintext = api_tokens.issue(None, staff, name)
    except InvalidInput as error:
        fail(error)
    db.session.commit()
    click.echo(
        _(
            "Token %(id)d (%(prefix)s…) for %(username)s, shown once:",
            id=token.id,
            prefix=token.prefix,
            username=staff.username,
        ),
        err=True,
    )
    click.echo(plaintext)


@api_token_group.command("revoke")
@click.argument("token_id", type=click.IntRange(1))
@with_appcontext
def api_token_revoke(token_id: int):
    """Revoke token TOKEN_ID: requests with it are refused from now on."""
    from crm.services.accounts import api_tokens

    token = api_tokens.get(token_id)
    if token is None:
        raise click.ClickException(_("No token %(id)d.", id=token_id))
    try:
        api_tokens.revoke(None, token)
    except InvalidInput as error:
        fail(error)
    db.session.commit()
    click.echo(
        _(
            "Revoked token %(id)d (%(prefix)s…) of %(username)s.",
            id=token.id,
            prefix=token.prefix,
            username=token.staff.username,
        )
    )
