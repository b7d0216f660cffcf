"""Fixtures: every database test runs on SQLite and on a real PostgreSQL server.

The schema comes from the migrations (never ``create_all``), applied once per
backend; each test starts from empty tables.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_migrate import upgrade

from crm import create_app
from crm.extensions import db
from crm.models import Base, Branch, Customer, Staff
from crm.models.enums import BranchStage, Role
from crm.services.accounts import api_tokens
from tests.support.pgserver import PostgresServer

BACKENDS = ("sqlite", "postgresql")
PASSWORD = "correct-horse"


@pytest.fixture(scope="session")
def pg_server():
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory):
    """Database URL per backend, created lazily and migrated once."""
    urls: dict[str, str] = {}
    return urls


# Reference data the migrations seed (the experience matrix of seed 004): each test starts
# from these rows as migrated, even if an earlier test edited them.
REFERENCE_TABLES = ("touchpoint_category", "touchpoint_rule", "sms_template", "product")
_reference_rows: dict[str, dict[str, list[dict]]] = {}


def _migrated_url(backend: str, request, tmp_path_factory, urls: dict[str, str]) -> str:
    if backend not in urls:
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'crm.sqlite3'}"
        else:
            url = request.getfixturevalue("pg_server").url
        app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            upgrade()
            _reference_rows[url] = {
                name: [
                    dict(row._mapping)
                    for row in db.session.execute(Base.metadata.tables[name].select())
                ]
                for name in REFERENCE_TABLES
            }
            db.session.remove()
            db.engine.dispose()
        urls[backend] = url
    return urls[backend]


def _empty_tables() -> None:
    from flask import current_app

    reference = _reference_rows[current_app.config["SQLALCHEMY_DATABASE_URI"]]
    tables = list(reversed(Base.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(t.name for t in tables)
        db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    for name in REFERENCE_TABLES:
        table = Base.metadata.tables[name]
        db.session.execute(table.insert(), reference[name])
        if db.engine.dialect.name == "postgresql" and "id" in table.c and reference[name]:
            # The rows came back with their ids; the sequence must continue after them.
            db.session.execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), max(id)) FROM {name}"
                )
            )
    db.session.commit()


class WorkerLikeClient(FlaskClient):
    """Each request runs as a web worker would: its own app context, ``g`` and session.

    Without this, requests would reuse the test's app context and share its
    identity map and Flask-Login's cached user, which no real request does.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


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


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def app_factory(backend, request, tmp_path_factory, database_urls):
    """Build apps on the test database; ``overrides`` change settings for one test."""
    url = _migrated_url(backend, request, tmp_path_factory, database_urls)
    apps = []

    def make(**overrides):
        app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url, **overrides})
        app.test_client_class = WorkerLikeClient
        apps.append(app)
        return app

    first = make()
    with first.app_context():
        _empty_tables()
    yield make
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(app_factory):
    app = app_factory()
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


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


def make_staff(username: str, role: Role, branch: Branch | None) -> Staff:
    staff = Staff(username=username, display_name=username.title(), role=role, branch=branch)
    staff.set_password(PASSWORD)
    db.session.add(staff)
    return staff


def make_customer(owner: Staff, name: str, phone: str, **fields) -> Customer:
    from decimal import Decimal

    customer = Customer(
        name=name,
        phone=phone,
        phone_last4=phone[-4:],
        owner=owner,
        branch=owner.branch,
        liquid_assets=fields.pop("liquid_assets", Decimal("100000.00")),
        willingness=fields.pop("willingness", 40),
        **fields,
    )
    db.session.add(customer)
    return customer


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
