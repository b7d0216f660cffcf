"""where each experiment customer stands today, kept by the database

The report measures each customer against where they stood when assigned: their quadrant,
their willingness and whether they were lost since. Read at report time, that was a join of
the assignment with the customer, half the report's time at a bank of a million customers.
Each assignment now carries the customer's quadrant and willingness today, and the day they
were lost while they are, kept as the dossier changes, whoever writes; the report reads the
assignments alone. Existing assignments are filled once here.

Revision ID: 0027_experiment_standing
Revises: 0026_experiment_spent
Create Date: 2026-12-06 03:00:00

"""

from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0027_experiment_standing"
down_revision = "0026_experiment_spent"
branch_labels = None
depends_on = None

QUADRANTS = ("develop", "maintain", "cultivate", "pamper")
TRIGGER = "customer_standing_on_update"
FUNCTION = "experiment_standing_follows_customer"
# A change to any of these changes where a customer stands.
COLUMNS = ("quadrant", "willingness", "relationship_status", "lost_on")


def _standing(row: str) -> str:
    """The assignment's columns as the customer ``row`` has them: the lost day only while
    they are lost (a customer won back is no longer counted lost)."""
    return (
        f"quadrant_now = {row}.quadrant, willingness_now = {row}.willingness, "
        f"lost_on = CASE WHEN {row}.relationship_status = 'lost' THEN {row}.lost_on END"
    )


def _changed(distinct: str) -> str:
    return " OR ".join(f"OLD.{name} {distinct} NEW.{name}" for name in COLUMNS)


SQLITE_TRIGGERS = (
    f"""
    CREATE TRIGGER {TRIGGER} AFTER UPDATE OF {", ".join(COLUMNS)} ON customer
    WHEN {_changed("IS NOT")}
    BEGIN
        UPDATE experiment_assignment SET {_standing("NEW")} WHERE customer_id = NEW.id;
    END
    """,
)

POSTGRESQL_TRIGGERS = (
    f"""
    CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE experiment_assignment SET {_standing("NEW")} WHERE customer_id = NEW.id;
        RETURN NULL;
    END $$
    """,
    # The WHEN clause keeps every other change to a dossier from calling the function.
    f"""
    CREATE TRIGGER {TRIGGER} AFTER UPDATE OF {", ".join(COLUMNS)} ON customer
    FOR EACH ROW WHEN ({_changed("IS DISTINCT FROM")})
    EXECUTE FUNCTION {FUNCTION}()
    """,
)

# UPDATE … FROM: PostgreSQL, and SQLite since 3.33.
FILL = (
    f"UPDATE experiment_assignment SET {_standing('c')} "
    "FROM customer c WHERE c.id = experiment_assignment.customer_id"
)


@contextmanager
def _rebuilt():
    """The assignment table, altered in batch: SQLite rebuilds it under a temporary name,
    and would refuse the rename back while the experience triggers of 0026 name a table
    that is, for that moment, gone. The legacy rename leaves triggers alone; they name the
    table, which is whole again once the batch ends."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("PRAGMA legacy_alter_table = ON")
    try:
        with op.batch_alter_table("experiment_assignment") as batch_op:
            yield batch_op
    finally:
        if sqlite:
            op.execute("PRAGMA legacy_alter_table = OFF")


def upgrade():
    with _rebuilt() as batch_op:
        batch_op.add_column(
            sa.Column(
                "quadrant_now",
                sa.Enum(*QUADRANTS, name="quadrant_now", native_enum=False, create_constraint=True),
            )
        )
        batch_op.add_column(sa.Column("willingness_now", sa.Integer()))
        batch_op.add_column(sa.Column("lost_on", sa.Date()))
    op.execute(FILL)
    with _rebuilt() as batch_op:
        batch_op.alter_column("quadrant_now", existing_type=sa.String(9), nullable=False)
        batch_op.alter_column("willingness_now", existing_type=sa.Integer(), nullable=False)
    dialect = op.get_bind().dialect.name
    for statement in POSTGRESQL_TRIGGERS if dialect == "postgresql" else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.execute(f"DROP TRIGGER {TRIGGER}" + (" ON customer" if postgresql else ""))
    if postgresql:
        op.execute(f"DROP FUNCTION {FUNCTION}()")
    with _rebuilt() as batch_op:
        # SQLite's copy of the table would keep the type's CHECK on a column it no longer has.
        batch_op.drop_constraint(batch_op.f("ck_experiment_assignment_quadrant_now"), type_="check")
        batch_op.drop_column("lost_on")
        batch_op.drop_column("willingness_now")
        batch_op.drop_column("quadrant_now")
