"""``flask crm`` commands that put customers in: the demo bank, a simulated history, and the
import of a bank's customer list."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from crm.cli.terminal import fail, with_progress
from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.services.simulation import demo

if TYPE_CHECKING:
    from crm.models import Staff
    from crm.services.transfer.report import Report


# What the simulator counts (crm/services/simulation), in the reader's words; a refused or
# stale action counts under its name with "_refused" or "_stale".
SIMULATED = {
    "callback_tasks": _l("call-back tasks opened"),
    "callbacks": _l("call-backs made"),
    "complaints_answered": _l("complaints answered"),
    "complaints_opened": _l("complaints opened"),
    "customers_lost": _l("customers lost"),
    "discretionary_planned": _l("experiences planned by hand"),
    "dossier_revisions": _l("dossiers revised"),
    "experiences_recorded": _l("experiences recorded"),
    "no_shows": _l("no-shows"),
    "opt_outs": _l("SMS opt-outs"),
    "planned": _l("experiences planned"),
    "reassessments": _l("willingness reassessed"),
    "referrals": _l("referrals"),
    "sms_sent": _l("SMS sent"),
}


def _simulated(name: str) -> str:
    for suffix, words in (
        ("_refused", _l("%(what)s, refused")),
        ("_stale", _l("%(what)s, refused as the dossier had changed")),
    ):
        if name.endswith(suffix):
            what = name.removesuffix(suffix)
            return str(words) % {"what": SIMULATED.get(what, what.replace("_", " "))}
    return str(SIMULATED.get(name, name.replace("_", " ")))


@click.command("demo")
@click.option("--customers", default=1000, show_default=True, type=click.IntRange(0, 2_000_000))
@click.option("--seed", default=2026, show_default=True, type=int)
@click.option(
    "--months",
    default=0,
    show_default=True,
    type=click.IntRange(0, 120),
    help="Give the bank that many months of simulated history up to yesterday (experiences "
    "held, SMS sent, call-backs, moves between quadrants), as `flask crm simulate` does.",
)
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) if data exists.")
@with_appcontext
def demo_command(customers: int, seed: int, months: int, if_empty: bool):
    """Fill an empty database with a demo bank."""
    if not demo.database_is_empty():
        if if_empty:
            click.echo(_("Database already has data; demo data not loaded."))
            return
        raise click.ClickException(
            _("The database already has data; demo data goes into an empty one.")
        )
    if months:
        _simulate(months, seed, customers)
        return
    summary = demo.generate(customers=customers, seed=seed)
    db.session.commit()
    click.echo(
        _(
            "Demo bank: %(branches)d branches, %(staff)d staff, %(customers)d customers, "
            "%(policies)d policies.",
            branches=summary.branches,
            staff=summary.staff,
            customers=summary.customers,
            policies=summary.policies,
        )
    )


@click.command("demo-logins")
@with_appcontext
def demo_logins():
    """Print the demo accounts."""
    click.echo(_("Demo logins (username / password):"))
    for username, password, who in demo.demo_logins():
        click.echo(f"  {username:<10} {password}   {who}")


@click.command("simulate")
@click.option("--months", default=12, show_default=True, type=click.IntRange(1, 120))
@click.option("--seed", default=2026, show_default=True, type=int)
@click.option("--customers", default=1000, show_default=True, type=click.IntRange(1, 2_000_000))
@click.option(
    "--start",
    type=click.DateTime(["%Y-%m-%d"]),
    help="First simulated day (default: MONTHS before today, so the history ends yesterday).",
)
@click.option(
    "--effects",
    "effects_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A TOML file of true effects per touchpoint category and quadrant, in willingness "
    "points per experience held, that the simulated customers obey "
    "(crm/services/simulation/truth.py).",
)
@with_appcontext
def simulate_command(months: int, seed: int, customers: int, start, effects_path: Path | None):
    """Fill an empty database with months of simulated history: the demo bank, then every
    day lived by the real planner, dispatcher, staff actions and follow-up (deterministic per
    seed; SMS go to the console provider)."""
    from crm.services.simulation import truth

    try:
        effects = truth.read_effects(effects_path) if effects_path else None
    except truth.EffectsRefused as error:
        raise click.ClickException(str(error)) from error
    _simulate(months, seed, customers, start.date() if start else None, effects)


def _simulate(months: int, seed: int, customers: int, start=None, effects=None) -> None:
    """Live ``months`` of history into this empty database, and say what was made."""
    from crm.services.simulation import run

    try:
        summary = with_progress(
            _("Simulating"),
            lambda progress: run.simulate(
                months,
                seed,
                customers=customers,
                start=start,
                progress=progress,
                effects=effects,
            ),
        )
    except run.SimulationRefused as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        _(
            "Simulated %(days)d days (%(start)s to %(end)s) over %(customers)d customers.",
            days=summary.days,
            start=summary.start.isoformat(),
            end=summary.end.isoformat(),
            customers=summary.customers,
        )
    )
    for name, count in sorted(summary.counts.items()):
        click.echo("  " + _("%(what)s: %(count)d", what=_simulated(name), count=count))
    for category, (held, points) in summary.ledger.totals().items():
        click.echo(
            _(
                "  true effect of %(category)s: %(held)d experiences held, %(points)+d "
                "willingness points",
                category=category.value,
                held=held,
                points=points,
            )
        )


@click.command("import")
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
    from crm.services.transfer import importer
    from crm.services.transfer.report import Mode

    user = _importing_user(username)
    mode = Mode.VALID_ROWS if valid_only else Mode.ALL_OR_NOTHING
    data = file.read_bytes()
    bars = _StageBars()
    try:
        report = importer.import_file(user, file.name, data, mode, progress=bars.progress)
    except InvalidInput as error:
        fail(error)
    finally:
        bars.finish()
    _print_report(report)
    if report.problems and (valid_only or rejects_path is not None):
        _write_rejects(report, data, rejects_path, file)
    if not report.written:
        _nothing_imported(report, valid_only)
    db.session.commit()
    click.echo(
        _(
            "Imported %(customers)d customers and %(policies)d policies.",
            customers=report.created,
            policies=report.policies_created,
        )
    )


def _importing_user(username: str | None) -> Staff | None:
    """The manager or admin named by --as; None (the system) without it."""
    if username is None:
        return None
    import sqlalchemy as sa

    from crm.models import Staff
    from crm.services.transfer import importer

    user = db.session.scalar(sa.select(Staff).where(Staff.username == username))
    if user is None:
        raise click.ClickException(_("No staff member %(name)s.", name=repr(username)))
    if not importer.may_import(user):
        raise click.ClickException(_("Only managers and admins import customers."))
    return user


class _StageBars:
    """A progress bar per stage of the import (checking, then writing), each finished as
    the next one starts."""

    def __init__(self):
        self.bars: dict[str, tuple] = {}

    def progress(self, stage: str, done: int, total: int) -> None:
        if stage not in self.bars:
            self.finish()
            label = _("Checking") if stage == "check" else _("Writing")
            # On a terminal only: in a log the bar would be a bare label line.
            hidden = not sys.stdout.isatty()
            bar = click.progressbar(length=max(total, 1), label=label, hidden=hidden)
            self.bars[stage] = (bar, [0])
        bar, state = self.bars[stage]
        bar.length = max(total, 1)
        bar.update(done - state[0])
        state[0] = done

    def finish(self) -> None:
        for bar, _state in self.bars.values():
            bar.render_finish()


def _print_report(report: Report) -> None:
    for problem in report.problems:
        where = _("line %(line)d", line=problem.line)
        if problem.column:
            where = _("%(label)s, %(text)s", label=where, text=problem.column)
        click.echo(_("%(label)s: %(text)s", label=where, text=problem.message), err=True)
    click.echo(
        _(
            "%(rows)d rows read: %(customers)d customers and %(policies)d policies valid, "
            "%(bad)d rows with problems.",
            rows=report.rows,
            customers=report.customers,
            policies=report.policies,
            bad=len(report.rejected_lines),
        )
    )


def _write_rejects(report: Report, data: bytes, rejects_path: Path | None, file: Path) -> None:
    """The rows not imported, with their reasons: where --rejects says, else next to FILE."""
    from crm.services.transfer.rejects import rejects_file

    name, content, _mimetype = rejects_file(report, data)
    target = rejects_path or file.with_name(name)
    target.write_bytes(content)
    click.echo(_("Rows not imported, with the reasons: %(path)s", path=target))


def _nothing_imported(report: Report, valid_only: bool) -> None:
    """Say why nothing was written, and exit with status 2."""
    db.session.rollback()
    if report.problems and not valid_only:
        click.echo(_("Nothing imported: fix the rows above, or use --valid-only."), err=True)
    else:
        click.echo(_("Nothing imported: no valid rows."), err=True)
    raise SystemExit(2)
