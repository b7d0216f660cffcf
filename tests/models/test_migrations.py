"""The schema is what the migrations make: models and migrations never drift apart."""

import re

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from crm import create_app
from crm.extensions import db
from crm.models import Base, Branch
from crm.models.enums import BranchStage, Role
from tests.support.factories import make_staff


def test_migrated_schema_matches_the_models(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


@pytest.mark.backends("postgresql")  # SQLite has no INCLUDE
def test_indexes_carry_the_columns_the_models_say(app):
    """Alembic compares no index's INCLUDE columns (PostgreSQL's); they are read here."""
    for table in Base.metadata.sorted_tables:
        for index in table.indexes:
            include = index.dialect_options["postgresql"]["include"]
            definition = db.session.scalar(
                sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = :name"),
                {"name": index.name},
            )
            carried = re.search(r"INCLUDE \((.*)\)", definition)
            assert (carried[1].split(", ") if carried else []) == list(include or []), definition


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


def test_the_name_search_migration_spells_existing_customers_in_batches(backend, tmp_path, request):
    """0008 fills name_pinyin and name_initials for the customers already there, a batch of
    ids at a time: here one more batch than fits in one, with a name in the last."""
    import importlib

    search_migration = importlib.import_module("migrations.versions.0008_name_search")
    app = create_app(
        "testing", {"SQLALCHEMY_DATABASE_URI": _fresh_database_url(backend, tmp_path, request)}
    )
    names = ["曾小明", "单雄信", "Anna Li", "张三", "%"]
    count = search_migration.BATCH + len(names)
    with app.app_context():
        upgrade(revision="0007_staff_sessions")
        # Staff and branches are as they were then; customers are written as 0007 had them.
        alice = make_staff("alice", Role.STAFF, Branch(name="城东支行", stage=BranchStage.MATURE))
        db.session.commit()
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO customer (name, gender, phone, phone_last4, liquid_assets, "
                    "willingness, risk_level, quadrant, owner_id, branch_id, sms_consent, "
                    "version, created_at, updated_at) VALUES (:name, 'male', :phone, :last4, 0, "
                    "30, 'R1', 'develop', :owner, :branch, :no, 1, :now, :now)"
                ),
                [
                    {
                        "name": names[n - search_migration.BATCH]
                        if n >= search_migration.BATCH
                        else "王芳",
                        "phone": f"+86135{n:08d}",
                        "last4": f"{n:04d}"[-4:],
                        "no": False,
                        "now": alice.created_at,
                        "owner": alice.id,
                        "branch": alice.branch_id,
                    }
                    for n in range(count)
                ],
            )
        upgrade()
        with db.engine.connect() as conn:
            spelled = conn.execute(
                sa.text(
                    "SELECT name, name_pinyin, name_initials FROM customer "
                    "WHERE id > :batch ORDER BY id"
                ),
                {"batch": search_migration.BATCH},
            ).all()
            first = conn.execute(
                sa.text("SELECT count(*) FROM customer WHERE name_pinyin = 'wangfang'")
            ).scalar()
        assert [tuple(row) for row in spelled] == [
            ("曾小明", "zengxiaoming", "zxm"),
            ("单雄信", "shanxiongxin", "sxx"),
            ("Anna Li", "annali", "al"),
            ("张三", "zhangsan", "zs"),
            ("%", "", ""),
        ]
        assert first == search_migration.BATCH
        db.session.remove()
        db.engine.dispose()
