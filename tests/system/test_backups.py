"""`flask crm backup` and `flask crm restore` on a live database, SQLite and PostgreSQL.

A thread opens dossiers one after another (each customer committed with its audit rows, as
the dossier form does) while the backup command runs in a process of its own. The backup is
restored into another database (another SQLite file; another database on the suite's
PostgreSQL server), where every dossier whose commit had returned before the backup began
must be found, each customer with its audit rows (a snapshot, no transaction torn in two),
at the latest migration. Then what an operator may get wrong: a restore over a database that
is not empty is refused without --replace, and a damaged backup changes nothing.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from crm import create_app
from crm.extensions import db
from crm.models import Branch, Staff
from crm.models.enums import BranchStage, Role
from crm.services.customers import dossier
from tests.support.databases import migrate
from tests.support.factories import make_customer, make_staff

ROOT = Path(__file__).resolve().parents[2]
BANK = 2000  # customers in the database before the writes start
MAX_WRITES = 20_000
WRITE_SECONDS = 120  # the writer stops by itself after this long, whatever happens


@pytest.fixture
def live_and_spare(backend, request, tmp_path):
    """The live database (empty, to migrate) and an empty one to restore into."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'live.sqlite3'}", f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    server = request.getfixturevalue("pg_server")
    names = ("crm_backup_live", "crm_backup_restored")
    admin = sa.create_engine(server.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
    base = server.url.rsplit("/", 1)[0]
    yield tuple(f"{base}/{name}" for name in names)
    with admin.connect() as conn:
        for name in names:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.dispose()


def flask_crm(url: str, *args: str, lang: str = "en_US.UTF-8") -> subprocess.CompletedProcess:
    """One `flask crm` command, as an operator runs it, on the database at ``url``."""
    env = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LC_MESSAGES")}
    env |= {"CRM_CONFIG": "testing", "CRM_DATABASE_URL": url, "LANG": lang}
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "crm", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def latest_migration() -> str:
    return ScriptDirectory(str(ROOT / "migrations")).get_current_head()


def open_bank(url: str) -> int:
    """Migrate, put a bank of customers in; the id of the staff member who writes next."""
    migrate(url)
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        branch = Branch(name="城东支行", stage=BranchStage.MATURE)
        db.session.add(branch)
        owner = make_staff("alice", Role.STAFF, branch)
        for i in range(BANK):
            make_customer(owner, f"客户{i:04d}", f"+86139{i:08d}")
        db.session.commit()
        owner_id = owner.id
        db.session.remove()
        db.engine.dispose()
    return owner_id


class Writer(threading.Thread):
    """Opens dossiers until told to stop, each committed with its audit rows; ``committed``
    lists the customers whose commit has returned, in order."""

    def __init__(self, url: str, owner_id: int) -> None:
        super().__init__(daemon=True)
        self.app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
        self.owner_id = owner_id
        self.committed: list[int] = []
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        deadline = time.monotonic() + WRITE_SECONDS
        try:
            with self.app.app_context():
                owner = db.session.get(Staff, self.owner_id)
                for i in range(MAX_WRITES):
                    if self.stop.is_set() or time.monotonic() > deadline:
                        break
                    customer = dossier.create_customer(
                        owner,
                        {
                            "name": f"新客户{i:05d}",
                            "phone": f"137{i:08d}",
                            "liquid_assets": Decimal("250000.00"),
                            "willingness": 40,
                            "gender": "female",
                            "risk_level": "R2",
                            "sms_consent": False,
                        },
                    )
                    customer_id = customer.id
                    db.session.commit()
                    self.committed.append(customer_id)
        except BaseException as error:  # reported by the test
            self.error = error
        finally:
            with self.app.app_context():
                db.session.remove()
                db.engine.dispose()


def state(url: str) -> dict:
    """What the restore must bring back: tables, migration, customers and their audit rows."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            tables = sorted(sa.inspect(conn).get_table_names())
            revision = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
            customers = set(conn.execute(sa.text("SELECT id FROM customer")).scalars())
            audited = set(
                conn.execute(
                    sa.text(
                        "SELECT DISTINCT entity_id FROM audit_log "
                        "WHERE entity = 'customer' AND action = 'create'"
                    )
                ).scalars()
            )
    finally:
        engine.dispose()
    return {"tables": tables, "revision": revision, "customers": customers, "audited": audited}


def add_marker(url: str) -> None:
    """A customer only the restored database has, so that a replacement shows."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE customer SET name = 'marker' WHERE id = 1"))
    finally:
        engine.dispose()


def names_of_first(url: str) -> str:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT name FROM customer WHERE id = 1")).scalar()
    finally:
        engine.dispose()


def damaged_copy(backup: Path, kind: str, where: Path) -> Path:
    """The backup damaged as a disk or a copy might: bytes flipped in the middle of a
    PostgreSQL archive's data, past its table of contents (the statements that make the
    schema, which still reads), or an SQLite file cut short."""
    data = bytearray(backup.read_bytes())
    if kind == "postgresql":
        contents_end = max(data.rfind(b"CREATE "), data.rfind(b"ALTER "))
        middle = (contents_end + len(data)) // 2
        for i in range(middle, middle + 2048):
            data[i] ^= 0x5A
    else:
        del data[len(data) // 2 :]
    target = where / f"damaged{backup.suffix}"
    target.write_bytes(bytes(data))
    return target


def test_a_backup_under_writes_restores_every_committed_row(backend, live_and_spare, tmp_path):
    live, restored = live_and_spare
    writer = Writer(live, open_bank(live))
    writer.start()
    try:
        deadline = time.monotonic() + 60
        while len(writer.committed) < 20:
            assert writer.is_alive() and time.monotonic() < deadline, writer.error
            time.sleep(0.05)
        before = list(writer.committed)  # each committed before the backup began
        made = flask_crm(live, "backup", "--out", str(tmp_path / "backups"))
        during = len(writer.committed) - len(before)
    finally:
        writer.stop.set()
        writer.join(60)
    assert writer.error is None, repr(writer.error)
    assert made.returncode == 0, made.stderr
    (backup,) = (tmp_path / "backups").iterdir()  # no partial file left beside it
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    latest = latest_migration()
    assert f"migration {latest}" in made.stdout and str(backup) in made.stdout
    print(
        f"{backend}: {len(before)} dossiers committed before the backup, {during} while it ran, "
        f"{len(writer.committed)} in all; backup {backup.stat().st_size} bytes"
    )
    assert during > 0, "the writes did not go on while the backup ran"

    done = flask_crm(restored, "restore", str(backup))
    assert done.returncode == 0, done.stderr
    assert f"migration {latest}" in done.stdout
    assert "flask db upgrade" not in done.stdout
    got, source = state(restored), state(live)
    print(
        f"{backend}: the restored copy holds {len(got['customers']) - BANK} of the dossiers, "
        f"{len(got['customers']) - BANK - len(before)} of them written while the backup ran"
    )
    assert got["revision"] == latest
    assert got["tables"] == source["tables"]
    missing = set(before) - got["customers"]
    assert not missing, f"{len(missing)} committed dossiers missing, e.g. {sorted(missing)[:5]}"
    # A snapshot: every dossier with its audit rows, none torn from its transaction, none
    # the live database never had.
    assert got["audited"] == got["customers"] - set(range(1, BANK + 1))
    assert got["customers"] <= source["customers"]
    assert len(got["customers"]) >= BANK + len(before)

    # Over a database that is not empty: refused without --replace, in the operator's
    # language, and nothing touched.
    add_marker(restored)
    refused = flask_crm(restored, "restore", str(backup), lang="zh_CN.UTF-8")
    assert refused.returncode == 2
    assert "不是空库" in refused.stderr and "--replace" in refused.stderr
    assert names_of_first(restored) == "marker"

    # A damaged backup changes nothing, even with --replace.
    damaged = damaged_copy(backup, backend, tmp_path)
    failed = flask_crm(restored, "restore", "--replace", str(damaged))
    assert failed.returncode == 1, failed.stdout
    if backend == "postgresql":
        # Read up to the damage, replayed in the restore's transaction, then rolled back.
        assert "nothing was changed" in failed.stderr, failed.stderr
    assert names_of_first(restored) == "marker"
    assert state(restored) == got

    replaced = flask_crm(restored, "restore", "--replace", str(backup))
    assert replaced.returncode == 0, replaced.stderr
    assert names_of_first(restored) == "客户0000"
    assert state(restored) == got
