"""A small simulated bank per backend, made once per test session: 60 customers lived
through two months by ``crm.services.simulation.simulator`` (the history the notebooks and the
database-reading analytics are tested on)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from crm import create_app
from crm.extensions import db
from crm.services.simulation import simulator

CUSTOMERS = 60
MONTHS = 2
SEED = 3
START = date(2026, 3, 2)
TODAY = simulator.add_months(START, MONTHS)  # the simulation lives every day before it
END = TODAY - timedelta(days=1)
DATABASE = "crm_simulated"


@dataclass
class Simulated:
    backend: str
    url: str
    folder: Path
    start: date = START
    end: date = END

    def app(self, **overrides):
        return create_app("testing", {"SQLALCHEMY_DATABASE_URI": self.url, **overrides})


def _url(backend: str, request, folder: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{folder / 'simulated.sqlite3'}"
    server = request.getfixturevalue("pg_server")
    admin = sa.create_engine(server.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        conn.exec_driver_sql(f"CREATE DATABASE {DATABASE}")
    admin.dispose()
    return server.url.rsplit("/", 1)[0] + f"/{DATABASE}"


# Made once per backend and session, whichever test module asks first: the fixture is
# imported into more than one module, and pytest keeps one instance per module. The throwaway
# PostgreSQL server goes at the end of the session, and the database with it.
_made: dict[str, Simulated] = {}


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def simulated(request, tmp_path_factory) -> Simulated:
    """The simulated bank on each backend (migrated from empty, then simulated)."""
    backend = request.param
    if backend not in _made:
        folder = tmp_path_factory.mktemp(f"simulated-{backend}")
        world = Simulated(backend, _url(backend, request, folder), folder)
        app = world.app(
            CRM_SMS_CONSOLE_PATH=str(folder / "sms.jsonl"),
            CRM_MAIL_CONSOLE_PATH=str(folder / "mail.jsonl"),
        )
        with app.app_context():
            upgrade()
            simulator.simulate(MONTHS, SEED, customers=CUSTOMERS, start=START, today=TODAY)
            db.session.remove()
            db.engine.dispose()
        _made[backend] = world
    return _made[backend]
