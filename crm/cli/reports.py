"""``flask crm report ...``: analytics reports, each a notebook under analytics/ executed and
saved as one HTML file."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _


@click.group("report")
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
    click.echo(
        _(
            "Running the migration notebook for %(start)s to %(end)s…",
            start=f"{start:%Y-%m-%d}",
            end=f"{end:%Y-%m-%d}",
        )
    )
    try:
        written = report.render(
            "migration",
            out,
            database_url=current_app.config["SQLALCHEMY_DATABASE_URI"],
            start=start.date(),
            end=end.date(),
        )
    except report.ReportFailed as error:
        raise click.ClickException(
            _("The report could not be made: %(error)s", error=error)
        ) from error
    click.echo(_("Wrote %(path)s.", path=written))
