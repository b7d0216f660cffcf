"""``flask crm report ...``: analytics reports, each a notebook under analytics/ executed and
saved as one HTML file, in Chinese unless ``--lang en`` asks otherwise."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _


@click.group("report")
def report_group():
    """Analytics reports: a notebook under analytics/ executed and saved as one HTML file."""


def _make(name: str, start, end, branch: str | None, language: str | None, out: Path) -> None:
    """Check what was asked, then run the notebook and write the file (nothing on refusal)."""
    import sqlalchemy as sa
    from flask import current_app

    from analytics import report
    from crm.core.clock import local_today
    from crm.extensions import db
    from crm.models import Branch

    try:
        language = report.check(start.date(), end.date(), local_today(), language)
    except report.Refused as refused:
        raise click.UsageError(str(refused)) from refused
    if branch and db.session.scalar(sa.select(Branch.id).where(Branch.name == branch)) is None:
        raise click.UsageError(_("There is no branch named %(name)s.", name=branch))
    click.echo(
        _(
            "Making the report “%(report)s” for %(start)s to %(end)s…",
            report=report.TITLES[name],
            start=f"{start:%Y-%m-%d}",
            end=f"{end:%Y-%m-%d}",
        )
    )
    try:
        written = report.render(
            name,
            out,
            database_url=current_app.config["SQLALCHEMY_DATABASE_URI"],
            start=start.date(),
            end=end.date(),
            branch=branch,
            language=language,
        )
    except report.ReportFailed as error:
        raise click.ClickException(
            _("The report could not be made: %(error)s", error=error)
        ) from error
    click.echo(_("Wrote %(path)s.", path=written))


def _report_command(name: str, help_text: str) -> click.Command:
    @click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), required=True)
    @click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), required=True)
    @click.option("--branch", default=None, help="One branch's customers (its name).")
    @click.option("--lang", "language", default=None, help="zh_CN (the default) or en.")
    @click.option(
        "--out",
        default="report.html",
        show_default=True,
        type=click.Path(dir_okay=False, writable=True, path_type=Path),
    )
    @with_appcontext
    def command(start, end, branch, language, out: Path):
        _make(name, start, end, branch, language, out)

    return click.command(name, help=help_text)(command)


for _name, _help in (
    ("migration", "Quadrant migration between two dates (matrix, flows, moves per cause)."),
    ("effectiveness", "Experience effectiveness per touchpoint and quadrant, and budget use."),
    ("followup", "Maturity call-backs against seed 003's targets, quotas, complaint SLA."),
):
    report_group.add_command(_report_command(_name, _help))
