"""Fixtures of the scheduler tests: a migrated database of each test's own, the app on it, and
scheduler processes started on it (and killed when the test ends)."""

from __future__ import annotations

import shutil
import signal
import uuid

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from crm import create_app
from crm.extensions import db
from tests.scheduler.processes import SchedulerProcess


def _migrate(url: str) -> None:
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def migrated_template(request, tmp_path_factory):
    """One migrated database per backend, made once, that each test copies."""
    made: dict[str, str] = {}

    def get(backend: str) -> str:
        if backend not in made:
            if backend == "sqlite":
                url = f"sqlite:///{tmp_path_factory.mktemp('scheduler') / 'template.sqlite3'}"
            else:
                server = request.getfixturevalue("pg_server")
                _admin_sql(server.url, "DROP DATABASE IF EXISTS crm_scheduler_template")
                _admin_sql(server.url, "CREATE DATABASE crm_scheduler_template")
                url = server.url.rsplit("/", 1)[0] + "/crm_scheduler_template"
            _migrate(url)
            made[backend] = url
        return made[backend]

    yield get
    if "postgresql" in made:
        server = request.getfixturevalue("pg_server")
        _admin_sql(server.url, "DROP DATABASE IF EXISTS crm_scheduler_template WITH (FORCE)")


def _admin_sql(url: str, statement: str) -> None:
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


@pytest.fixture
def database_url(backend, migrated_template, tmp_path, request):
    """A migrated database of this test's own."""
    template = migrated_template(backend)
    if backend == "sqlite":
        path = tmp_path / "crm.sqlite3"
        shutil.copyfile(template.removeprefix("sqlite:///"), path)
        yield f"sqlite:///{path}"
        return
    name = f"crm_scheduler_{uuid.uuid4().hex[:10]}"
    admin = request.getfixturevalue("pg_server").url
    _admin_sql(admin, f"CREATE DATABASE {name} TEMPLATE crm_scheduler_template")
    yield template.rsplit("/", 1)[0] + f"/{name}"
    _admin_sql(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def local_app(database_url):
    """The app in this test's process, on the test's database (to look and to arrange)."""
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url})
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def start_scheduler(database_url, tmp_path):
    started: list[SchedulerProcess] = []

    def start(name: str) -> SchedulerProcess:
        process = SchedulerProcess(database_url, tmp_path / f"{name}.log")
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop(signal.SIGKILL)
