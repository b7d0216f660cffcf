"""The schema is what the migrations make: models and migrations never drift apart."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from crm import create_app
from crm.extensions import db
from crm.models import Base


def test_migrated_schema_matches_the_models(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def _fresh_database_url(backend, tmp_path, request):
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    server = request.getfixturevalue("pg_server")
    admin = sa.create_engine(server.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text("DROP DATABASE IF EXISTS crm_fresh"))
        conn.execute(sa.text("CREATE DATABASE crm_fresh"))
    admin.dispose()
    return server.url.rsplit("/", 1)[0] + "/crm_fresh"


def test_upgrade_downgrade_upgrade_on_an_empty_database(backend, tmp_path, request):
    app = create_app(
        "testing", {"SQLALCHEMY_DATABASE_URI": _fresh_database_url(backend, tmp_path, request)}
    )
    with app.app_context():
        upgrade()
        assert "customer" in sa.inspect(db.engine).get_table_names()
        downgrade(revision="base")
        assert "customer" not in sa.inspect(db.engine).get_table_names()
        upgrade()
        assert {"customer", "policy", "audit_log", "staff", "branch"} <= set(
            sa.inspect(db.engine).get_table_names()
        )
        db.engine.dispose()
