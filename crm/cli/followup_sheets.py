"""``flask crm report callbacks|complaints``: seed 003's two tracking sheets (有效回访统计表,
客户投诉情况统计表) as XLSX or CSV files, the same the follow-up page offers."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _


def _write(kind: str, start: str, end: str, branch: str | None, format: str, out: Path) -> None:
    """Check what was asked, then write the sheet (nothing written on a refusal)."""
    import sqlalchemy as sa

    from crm.core.clock import local_today
    from crm.extensions import db
    from crm.models import Branch, Customer
    from crm.services.management import period, sheets

    chosen = period.read_period(start, end, period.this_month(local_today()), max_months=None)
    if chosen.errors:
        raise click.UsageError(" ".join(chosen.errors))
    scope = sa.true()
    if branch:
        branch_id = db.session.scalar(sa.select(Branch.id).where(Branch.name == branch))
        if branch_id is None:
            raise click.UsageError(_("There is no branch named %(name)s.", name=branch))
        scope = Customer.branch_id == branch_id
    made = sheets.sheet(kind, scope, chosen.start, chosen.end)
    out.write_bytes(made.content(format))
    click.echo(_("Wrote %(path)s (%(n)d rows).", path=out, n=len(made.rows)))


def _sheet_command(kind: str, help_text: str) -> click.Command:
    @click.option("--from", "start", required=True, help="First day, YYYY-MM-DD.")
    @click.option("--to", "end", required=True, help="Last day, YYYY-MM-DD.")
    @click.option("--branch", default=None, help="One branch's customers (its name).")
    @click.option(
        "--format", "format", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True
    )
    @click.option(
        "--out", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path)
    )
    @with_appcontext
    def command(start: str, end: str, branch: str | None, format: str, out: Path) -> None:
        _write(kind, start, end, branch, format, out)

    command.__doc__ = help_text
    return click.command(kind, help=help_text)(command)


callbacks_command = _sheet_command(
    "callbacks", "有效回访统计表: the call-backs recorded in a period, as XLSX or CSV."
)
complaints_command = _sheet_command(
    "complaints", "客户投诉情况统计表: the complaints opened in a period, as XLSX or CSV."
)
