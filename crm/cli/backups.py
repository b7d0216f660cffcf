"""``flask crm backup`` and ``flask crm restore``: the database into a file and back
(``crm.core.backups`` does the work)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext


def _database() -> tuple[str, str]:
    """The app's database URL, and how to name it to the operator (no password)."""
    from flask import current_app
    from sqlalchemy.engine import make_url

    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    return url, make_url(url).render_as_string(hide_password=True)


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def _latest_migration() -> str | None:
    from alembic.script import ScriptDirectory
    from flask import current_app

    config = current_app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config).get_current_head()


@click.command("backup")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the backup into (a new file, named by the time).",
)
@with_appcontext
def backup_command(out_dir: Path):
    """Back up the database into a new file in a folder; safe while the app runs."""
    from flask_babel import gettext as _

    from crm.core import backups
    from crm.models.base import utcnow

    url, name = _database()
    try:
        made = backups.backup(url, out_dir, utcnow())
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        _(
            "Backed up %(database)s (migration %(revision)s) to %(path)s, %(size)s.",
            database=name,
            revision=made.revision or "-",
            path=made.path,
            size=_megabytes(made.size),
        )
    )


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--replace",
    is_flag=True,
    help="Restore over a database that is not empty: everything in it is replaced.",
)
@with_appcontext
def restore_command(file: Path, replace: bool):
    """Restore a backup made by `flask crm backup` into the database (stop the web and
    scheduler processes first)."""
    from flask_babel import gettext as _

    from crm.core import backups

    url, name = _database()
    try:
        backups.kind_of_file(file)
        before = backups.contents(url)
        if not before.empty and not replace:
            click.echo(
                _(
                    "%(database)s is not empty (%(tables)d tables, migration %(revision)s): "
                    "a restore replaces everything in it. Stop the web and scheduler "
                    "processes, then run again with --replace.",
                    database=name,
                    tables=before.tables,
                    revision=before.revision or "-",
                ),
                err=True,
            )
            raise SystemExit(2)
        after = backups.restore(url, file)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        _(
            "Restored %(path)s into %(database)s: %(tables)d tables, migration %(revision)s.",
            path=file,
            database=name,
            tables=after.tables,
            revision=after.revision or "-",
        )
    )
    latest = _latest_migration()
    if after.revision != latest:
        click.echo(
            _(
                "This version of the app expects migration %(latest)s: run flask db upgrade "
                "before starting it.",
                latest=latest,
            )
        )
