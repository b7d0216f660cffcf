"""Backups that cannot go wrong quietly (SQLite here; both databases under writes in
tests/system/test_backups.py)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest

from crm.core import backups

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture
def live(tmp_path):
    path = tmp_path / "live.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customer (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO customer (name) VALUES ('张伟')")
    return f"sqlite:///{path}"


def names(url: str) -> list[str]:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        return [name for (name,) in conn.execute("SELECT name FROM customer")]


def test_two_backups_in_one_second_are_two_whole_files(live, tmp_path):
    first = backups.backup(live, tmp_path / "out", NOW)
    second = backups.backup(live, tmp_path / "out", NOW)
    assert first.path != second.path
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "crm-20261123T020000Z-2.sqlite3",
        "crm-20261123T020000Z.sqlite3",
    ]
    spare = f"sqlite:///{tmp_path / 'spare.sqlite3'}"
    assert backups.contents(spare).empty
    restored = backups.restore(spare, second.path)
    assert restored.tables == 1 and names(spare) == ["张伟"]


def test_what_is_no_backup_of_this_database_is_refused_and_changes_nothing(live, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# not a backup")
    archive = tmp_path / "crm.pgdump"
    archive.write_bytes(b"PGDMP\x01\x0e\x00")
    with pytest.raises(backups.BackupError, match="is not a backup made by flask crm backup"):
        backups.restore(live, readme)
    with pytest.raises(backups.BackupError, match="is a postgresql backup; the database is sqlite"):
        backups.restore(live, archive)
    assert names(live) == ["张伟"]


def test_a_database_that_is_not_there_is_said_so(tmp_path):
    with pytest.raises(backups.BackupError, match="There is no database at"):
        backups.backup(f"sqlite:///{tmp_path / 'missing.sqlite3'}", tmp_path / "out", NOW)
    assert not (tmp_path / "out").exists()
    with pytest.raises(backups.BackupError, match="PostgreSQL and SQLite"):
        backups.backup("mysql://crm@db/crm", tmp_path / "out", NOW)
