"""A small simulated bank per backend, made once per test session: 60 customers lived
through two months by ``crm.services.simulation.run`` (the history the notebooks and the
database-reading analytics are tested on).

A plugin of the root conftest (its ``pytest_plugins``): any test may ask for ``simulated``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from crm import create_app
from crm.extensions import db
from crm.services.simulation import run

CUSTOMERS = 60
MONTHS = 2
SEED = 3
START = date(2026, 3, 2)
TODAY = run.add_months(START, MONTHS)  # the simulation lives every day before it
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


@pytest.fixture(scope="session")
def simulated_banks(request, tmp_path_factory):
    """The simulated bank of each backend, made when a test first asks for it (the
    PostgreSQL one goes with the suite's throwaway server at the end of the session)."""
    made: dict[str, Simulated] = {}

    def get(backend: str) -> Simulated:
        if backend not in made:
            folder = tmp_path_factory.mktemp(f"simulated-{backend}")
            bank = Simulated(backend, _url(backend, request, folder), folder)
            app = bank.app(
                CRM_SMS_CONSOLE_PATH=str(folder / "sms.jsonl"),
                CRM_MAIL_CONSOLE_PATH=str(folder / "mail.jsonl"),
            )
            with app.app_context():
                upgrade()
                run.simulate(MONTHS, SEED, customers=CUSTOMERS, start=START, today=TODAY)
                db.session.remove()
                db.engine.dispose()
            made[backend] = bank
        return made[backend]

    return get


@pytest.fixture
def simulated(backend, simulated_banks) -> Simulated:
    """The simulated bank on the test's backend (migrated from empty, then simulated)."""
    return simulated_banks(backend)
