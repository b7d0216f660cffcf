"""Fixtures: every database test runs on SQLite and on a real PostgreSQL server, unless its
module names the backends it needs (``pytestmark = pytest.mark.backends("sqlite")``).

The schema comes from the migrations (never ``create_all``), applied once per backend; each
test starts from empty tables and the migrated reference rows. Tests share one app per
backend; a test that needs other settings builds its own with ``app_factory(**overrides)``
or changes the shared one for its own duration with ``settings(KEY=value)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import Branch, Customer, Staff
from crm.models.enums import BranchStage, Role
from crm.services.accounts import api_tokens
from tests.support.databases import Database, build_app
from tests.support.factories import PASSWORD, make_customer, make_staff
from tests.support.pgserver import PostgresServer

pytest_plugins = ["tests.support.simulated"]

BACKENDS = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc):
    """Each test that needs a database runs once per backend: both, or those its module (or
    the test itself) names with the ``backends`` marker."""
    if "backend" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("backends")
        names = marker.args if marker else BACKENDS
        if set(names) - set(BACKENDS):
            raise pytest.UsageError(f"{metafunc.definition.nodeid}: backends are {BACKENDS}")
        metafunc.parametrize("backend", names, indirect=True)


@pytest.fixture
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def pg_server():
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def databases(request, tmp_path_factory):
    """The migrated database of each backend, made when a test first needs it."""
    made: dict[str, Database] = {}

    def get(backend: str) -> Database:
        if backend not in made:
            if backend == "sqlite":
                url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'crm.sqlite3'}"
            else:
                url = request.getfixturevalue("pg_server").url
            made[backend] = Database(url)
        return made[backend]

    yield get
    for database in made.values():
        with database.app.app_context():
            db.engine.dispose()


@pytest.fixture
def database(backend, databases) -> Database:
    """This test's database, emptied for it."""
    database = databases(backend)
    with database.app.app_context():
        database.empty()
    return database


@pytest.fixture
def app_factory(database):
    """Build an app of the test's own on the test database (``overrides`` change settings);
    ``app`` is the one the tests share."""
    apps = []

    def make(**overrides):
        app = build_app(database.url, **overrides)
        apps.append(app)
        return app

    yield make
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(database):
    app = database.app
    with app.app_context():
        yield app
    database.restore_settings()


@pytest.fixture
def settings(app, monkeypatch):
    """``settings(CRM_PAGE_SIZE=3)``: change the shared app's settings until the test ends."""

    def change(**values):
        for key, value in values.items():
            monkeypatch.setitem(app.config, key, value)

    return change


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def bench_urls(tmp_path, pg_server):
    """For the benchmarks' smoke runs: an empty SQLite file and an empty database of its own
    on the suite's PostgreSQL server (bench/ migrates them itself)."""
    admin = sa.create_engine(pg_server.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql("DROP DATABASE IF EXISTS crm_bench_smoke")
        conn.exec_driver_sql("CREATE DATABASE crm_bench_smoke")
    yield {
        "sqlite": f"sqlite:///{tmp_path / 'bench.sqlite3'}",
        "postgresql": pg_server.url.rsplit("/", 1)[0] + "/crm_bench_smoke",
    }
    with admin.connect() as conn:
        conn.exec_driver_sql("DROP DATABASE IF EXISTS crm_bench_smoke WITH (FORCE)")
    admin.dispose()


@dataclass
class World:
    """Two branches; a manager and two staff in the first, one staff in the second; an admin."""

    east: Branch
    west: Branch
    admin: Staff
    manager: Staff
    alice: Staff
    bob: Staff
    carol: Staff
    alice_customer: Customer
    bob_customer: Customer
    carol_customer: Customer


@pytest.fixture
def world(app) -> World:
    east = Branch(name="城东支行", stage=BranchStage.MATURE)
    west = Branch(name="城西支行", stage=BranchStage.GROWTH)
    db.session.add_all([east, west])
    admin = make_staff("admin", Role.ADMIN, None)
    manager = make_staff("manager", Role.MANAGER, east)
    alice = make_staff("alice", Role.STAFF, east)
    bob = make_staff("bob", Role.STAFF, east)
    carol = make_staff("carol", Role.STAFF, west)
    w = World(
        east,
        west,
        admin,
        manager,
        alice,
        bob,
        carol,
        make_customer(alice, "张伟", "+8613800001111"),
        make_customer(bob, "李娜", "+8613900002222"),
        make_customer(carol, "王芳", "+8618600003333"),
    )
    db.session.commit()
    return w


@pytest.fixture
def token_for(world):
    """Issue a token (as the admin) for a staff member of the world; return its plaintext."""

    def issue(staff) -> str:
        _, plaintext = api_tokens.issue(world.admin, staff, f"tests for {staff.username}")
        db.session.commit()
        return plaintext

    return issue


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, username: str, password: str = PASSWORD, **kw):
        return self.client.post("/login", data={"username": username, "password": password}, **kw)

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client) -> Auth:
    return Auth(client)
