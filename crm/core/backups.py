"""Backups (备份) of the app's database, and restoring one.

- **PostgreSQL**: ``pg_dump --format=custom``, which reads one consistent snapshot while the
  app goes on writing. A restore replays the archive (``pg_restore`` as SQL, through
  ``psql``) in one transaction together with the drop of what the database held, so a
  restore that fails half-way changes nothing. Objects belong to the user that restores
  (``--no-owner``); grants to other roles are not restored (``--no-privileges``).
- **SQLite**: the online backup API (``sqlite3.Connection.backup``) copies a consistent
  snapshot while the app reads and writes; the copy is a single file (no ``-wal`` beside
  it). A restore copies it back with the same API, in one transaction of the target.

A backup is written under a temporary name and renamed once complete, so a file named like
a backup always is a whole one. Backups hold customers' personal data: they are readable
by their owner only.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.engine import URL, make_url

POSTGRESQL, SQLITE = "postgresql", "sqlite"
SUFFIX = {POSTGRESQL: ".pgdump", SQLITE: ".sqlite3"}
SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
# What a PostgreSQL restore runs before the archive: the old schema goes, in the restore's
# own transaction. It waits at most 10 s for tables another process is using, then gives up
# with nothing changed.
RESTORE_PROLOGUE = """SET client_min_messages = warning;
SET lock_timeout = '10s';
BEGIN;
DROP SCHEMA IF EXISTS public CASCADE;
CREATE SCHEMA public;
"""


class BackupError(RuntimeError):
    """The backup or restore cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class Contents:
    """What a database holds, as far as a restore over it is concerned."""

    tables: int
    revision: str | None  # the migration it is at (alembic_version), if any

    @property
    def empty(self) -> bool:
        return self.tables == 0


@dataclass(frozen=True)
class Backup:
    path: Path
    kind: str
    size: int
    revision: str | None


def kind_of(url: str) -> str:
    """``postgresql`` or ``sqlite``; anything else cannot be backed up by this module."""
    name = make_url(url).get_backend_name()
    if name not in (POSTGRESQL, SQLITE):
        raise BackupError(_("Backups are made of PostgreSQL and SQLite databases only."))
    return name


def contents(url: str) -> Contents:
    """The tables in the database and the migration it is at."""
    if kind_of(url) == SQLITE and not _sqlite_path(url).exists():
        return Contents(0, None)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            tables = sa.inspect(conn).get_table_names()
            revision = None
            if "alembic_version" in tables:
                revision = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except sa.exc.SQLAlchemyError as error:
        first = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        raise BackupError(_("The database cannot be read: %(error)s", error=first)) from error
    finally:
        engine.dispose()
    return Contents(len(tables), revision)


# --- backing up ---------------------------------------------------------------------------


def backup(url: str, out_dir: Path, now: datetime) -> Backup:
    """Write a backup of the database at ``url`` into a new file in ``out_dir``."""
    kind = kind_of(url)
    if kind == SQLITE and not _sqlite_path(url).exists():
        raise BackupError(_("There is no database at %(path)s.", path=_sqlite_path(url)))
    revision = contents(url).revision
    out_dir.mkdir(parents=True, exist_ok=True)
    target = _new_name(out_dir, f"crm-{now:%Y%m%dT%H%M%SZ}", SUFFIX[kind])
    partial = target.with_name(f".{target.name}.partial")
    try:
        if kind == POSTGRESQL:
            _pg_dump(url, partial)
        else:
            _sqlite_backup(url, partial)
        os.chmod(partial, 0o600)
        _fsync(partial)
        partial.rename(target)
        _fsync(out_dir)
    finally:
        partial.unlink(missing_ok=True)
    return Backup(target, kind, target.stat().st_size, revision)


def _new_name(folder: Path, stem: str, suffix: str) -> Path:
    path = folder / f"{stem}{suffix}"
    count = 1
    while path.exists():  # two backups in one second
        count += 1
        path = folder / f"{stem}-{count}{suffix}"
    return path


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(_("The SQLite database must be a file named in CRM_DATABASE_URL."))
    return Path(database)


def _sqlite_backup(url: str, partial: Path) -> None:
    source_path = _sqlite_path(url)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    source = sqlite3.connect(source_path, timeout=30)
    target = sqlite3.connect(partial)
    try:
        # One step (all pages at once): a snapshot, even while others write (WAL).
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")  # the backup is one file
    except sqlite3.Error as error:
        raise BackupError(_("The SQLite backup failed: %(error)s", error=error)) from error
    finally:
        target.close()
        source.close()


def _client(program: str) -> str:
    found = shutil.which(program)
    if found is None:
        raise BackupError(
            _(
                "%(program)s was not found. Install PostgreSQL's client programs, of the "
                "server's major version or newer (Debian: apt-get install postgresql-client), "
                "and put them on PATH.",
                program=program,
            )
        )
    return found


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The URL as libpq reads it, and an environment carrying its password (never on a
    command line, where any user of the host could read it)."""
    parsed: URL = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str], failed: str) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = result.stderr.strip() or f"exit status {result.returncode}"
        raise BackupError(f"{failed}\n{detail}")


def _pg_dump(url: str, partial: Path) -> None:
    uri, env = _libpq(url)
    _run(
        [_client("pg_dump"), "--format=custom", "--no-password", f"--file={partial}", uri],
        env,
        _("pg_dump failed:"),
    )


# --- restoring -------------------------------------------------------------------------------


def kind_of_file(path: Path) -> str:
    """What a backup file holds, read from its first bytes."""
    with open(path, "rb") as f:
        head = f.read(len(SQLITE_MAGIC))
    if head.startswith(PGDUMP_MAGIC):
        return POSTGRESQL
    if head == SQLITE_MAGIC:
        return SQLITE
    raise BackupError(
        _("%(path)s is not a backup made by flask crm backup.", path=path),
    )


def restore(url: str, path: Path) -> Contents:
    """Replace everything in the database at ``url`` with the backup at ``path``; the caller
    has made sure that is wanted. Returns what the database holds afterwards."""
    kind = kind_of(url)
    held = kind_of_file(path)
    if held != kind:
        raise BackupError(
            _(
                "%(path)s is a %(held)s backup; the database is %(kind)s.",
                path=path,
                held=held,
                kind=kind,
            )
        )
    if kind == POSTGRESQL:
        _pg_restore(url, path)
    else:
        _sqlite_restore(url, path)
    return contents(url)


def _sqlite_restore(url: str, path: Path) -> None:
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        check = source.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise BackupError(_("%(path)s is damaged: %(check)s", path=path, check=check))
        target = sqlite3.connect(_sqlite_path(url), timeout=30)
        try:
            source.backup(target)  # in one transaction of the target: all or nothing
        finally:
            target.close()
    except sqlite3.Error as error:
        raise BackupError(_("The SQLite restore failed: %(error)s", error=error)) from error
    finally:
        source.close()


def _pg_restore(url: str, path: Path) -> None:
    uri, env = _libpq(url)
    pg_restore, psql = _client("pg_restore"), _client("psql")
    _run([pg_restore, "--list", str(path)], env, _("%(path)s cannot be read:", path=path))
    # The archive as SQL, streamed into psql after the drop of the old schema, all in one
    # transaction. COMMIT is sent only once pg_restore has read the whole archive: psql stops
    # at the first error (ON_ERROR_STOP), and a stream cut short ends without COMMIT, so
    # either way the server rolls everything back.
    with tempfile.TemporaryFile() as replay_errors, tempfile.TemporaryFile() as apply_errors:
        replay = subprocess.Popen(
            [pg_restore, "--no-owner", "--no-privileges", "--file=-", str(path)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=replay_errors,
        )
        apply = subprocess.Popen(
            [psql, "--no-psqlrc", "--quiet", "--no-password", "--set=ON_ERROR_STOP=1"]
            + ["--file=-", f"--dbname={uri}"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=apply_errors,
        )
        try:
            apply.stdin.write(RESTORE_PROLOGUE.encode())
            shutil.copyfileobj(replay.stdout, apply.stdin, 1 << 20)
            if replay.wait() == 0:
                apply.stdin.write(b"COMMIT;\n")
        except BrokenPipeError:
            pass  # psql stopped at an error: it committed nothing
        finally:
            with contextlib.suppress(BrokenPipeError):
                apply.stdin.close()
            replay.stdout.close()
            if replay.poll() is None:
                replay.kill()
            replay.wait()
            apply.wait()
        if apply.returncode != 0:
            message = _said(apply_errors, apply.returncode)
            hint = ""
            if "lock timeout" in message:
                hint = "\n" + _("Stop the web and scheduler processes first.")
            failed = _("The restore failed; nothing was changed:")
            raise BackupError(f"{failed}\n{message}{hint}")
        if replay.returncode != 0:
            message = _said(replay_errors, replay.returncode)
            failed = _("pg_restore failed; nothing was changed:")
            raise BackupError(f"{failed}\n{message}")


def _said(errors, returncode: int) -> str:
    """What a client program wrote to its (temporary) error file, or its exit status."""
    errors.seek(0)
    return errors.read().decode(errors="replace").strip() or f"exit status {returncode}"
