"""what each experiment customer's held experiences cost, kept by the database

An experiment's report weighs each arm's outcome against what was spent on it: the held
experiences (and no-shows) of its customers within the experiment's window. Summed at read
time that is a join of the assignment with every experience of the window, ten million rows
at a bank of a million customers. Each assignment now carries the sum, kept as experiences
are recorded, edited or removed, whoever writes; the report reads one column. The window is
from the start to the horizon, or to the stop if earlier (the stop recounts, as it shortens
the window). Existing assignments are counted once here. An index on the experiment, arm
and quadrant lets the report read its groups in the index's order.

Revision ID: 0026_experiment_spent
Revises: 0025_experience_owner
Create Date: 2026-12-06 00:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0026_experiment_spent"
down_revision = "0025_experience_owner"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(18, 2).with_variant(sa.BigInteger(), "sqlite")
HELD = "('done', 'no_show')"
TRIGGERS = (
    "experience_spent_on_insert",
    "experience_spent_on_update",
    "experience_spent_on_delete",
)
FUNCTION = "experiment_spent_follows_experience"
ARM_INDEX = "ix_experiment_assignment_experiment_id_arm_quadrant"
# A change to any of these can move an experience into or out of a sum.
COLUMNS = "status, actual_cost, planned_cost, held_on, due_on, customer_id"


# The end of an experiment ``e``'s window (exclusive): the horizon, or the stop if earlier.
WINDOW_END = {
    "sqlite": (
        "min(date(e.started_on, '+' || e.horizon_days || ' days'), "
        "coalesce(e.stopped_on, '9999-12-31'))"
    ),
    "postgresql": "least(e.started_on + e.horizon_days, e.stopped_on)",
}


def _sqlite_window(row: str) -> str:
    """The experiments whose window holds the day ``row`` was held (SQLite)."""
    day = f"coalesce({row}.held_on, {row}.due_on)"
    return (
        f"SELECT e.id FROM experiment e WHERE e.started_on <= {day} "
        f"AND {day} < {WINDOW_END['sqlite']}"
    )


def _sqlite_add(row: str, sign: str) -> str:
    return f"""
        UPDATE experiment_assignment
        SET spent = spent {sign} coalesce({row}.actual_cost, {row}.planned_cost, 0)
        WHERE {row}.status IN {HELD} AND customer_id = {row}.customer_id
            AND experiment_id IN ({_sqlite_window(row)});"""


SQLITE_TRIGGERS = (
    f"""
    CREATE TRIGGER experience_spent_on_insert AFTER INSERT ON experience
    WHEN NEW.status IN {HELD}
    BEGIN{_sqlite_add("NEW", "+")}
    END
    """,
    f"""
    CREATE TRIGGER experience_spent_on_update AFTER UPDATE OF {COLUMNS} ON experience
    WHEN OLD.status IN {HELD} OR NEW.status IN {HELD}
    BEGIN{_sqlite_add("OLD", "-")}{_sqlite_add("NEW", "+")}
    END
    """,
    f"""
    CREATE TRIGGER experience_spent_on_delete AFTER DELETE ON experience
    WHEN OLD.status IN {HELD}
    BEGIN{_sqlite_add("OLD", "-")}
    END
    """,
)


def _postgresql_add(row: str, sign: str) -> str:
    day = f"coalesce({row}.held_on, {row}.due_on)"
    return f"""
        UPDATE experiment_assignment a
        SET spent = a.spent {sign} coalesce({row}.actual_cost, {row}.planned_cost, 0)
        FROM experiment e
        WHERE a.customer_id = {row}.customer_id AND a.experiment_id = e.id
            AND e.started_on <= {day}
            AND {day} < {WINDOW_END["postgresql"]};"""


def _postgresql_row(row: str) -> str:
    return ", ".join(f"{row}.{name.strip()}" for name in COLUMNS.split(","))


POSTGRESQL_TRIGGERS = (
    f"""
    CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' AND OLD.status IN {HELD} THEN{_postgresql_add("OLD", "-")}
        END IF;
        IF TG_OP <> 'DELETE' AND NEW.status IN {HELD} THEN{_postgresql_add("NEW", "+")}
        END IF;
        RETURN NULL;
    END $$
    """,
    # The WHEN clauses keep the planner's inserts and the changes to planned experiences
    # from calling the function at all.
    f"""
    CREATE TRIGGER experience_spent_on_insert AFTER INSERT ON experience
    FOR EACH ROW WHEN (NEW.status IN {HELD})
    EXECUTE FUNCTION {FUNCTION}()
    """,
    f"""
    CREATE TRIGGER experience_spent_on_update AFTER UPDATE OF {COLUMNS} ON experience
    FOR EACH ROW WHEN ((OLD.status IN {HELD} OR NEW.status IN {HELD})
        AND ({_postgresql_row("OLD")}) IS DISTINCT FROM ({_postgresql_row("NEW")}))
    EXECUTE FUNCTION {FUNCTION}()
    """,
    f"""
    CREATE TRIGGER experience_spent_on_delete AFTER DELETE ON experience
    FOR EACH ROW WHEN (OLD.status IN {HELD})
    EXECUTE FUNCTION {FUNCTION}()
    """,
)

# Every assignment counted once: one statement, a sum per row over the customer's index.
RECOUNT = f"""
    UPDATE experiment_assignment SET spent = coalesce((
        SELECT sum(coalesce(x.actual_cost, x.planned_cost))
        FROM experience x JOIN experiment e ON e.id = experiment_assignment.experiment_id
        WHERE x.customer_id = experiment_assignment.customer_id AND x.status IN {HELD}
            AND e.started_on <= coalesce(x.held_on, x.due_on)
            AND coalesce(x.held_on, x.due_on) < {{window_end}}
    ), 0)
"""


def upgrade():
    with op.batch_alter_table("experiment_assignment") as batch_op:
        batch_op.add_column(sa.Column("spent", MONEY, nullable=False, server_default=sa.text("0")))
    op.create_index(ARM_INDEX, "experiment_assignment", ["experiment_id", "arm", "quadrant"])
    dialect = op.get_bind().dialect.name
    op.execute(RECOUNT.format(window_end=WINDOW_END[dialect]))
    for statement in POSTGRESQL_TRIGGERS if dialect == "postgresql" else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER {name}" + (" ON experience" if postgresql else ""))
    if postgresql:
        op.execute(f"DROP FUNCTION {FUNCTION}()")
    op.drop_index(ARM_INDEX, table_name="experiment_assignment")
    with op.batch_alter_table("experiment_assignment") as batch_op:
        batch_op.drop_column("spent")
