"""the staff member answerable for each experience, kept by the database

The team page counts each staff member's experiences by status and due day. Read through the
customers, that is one index probe a customer of the branch; with the owner on the
experience it is one index range a staff member. The database keeps the copy, whoever
writes: an experience written without one takes its customer's owner; a change of owner
(a handover, a reassignment, an import) moves the customer's planned experiences with it;
one planned again (a cancelled invitation taken back) takes the owner of the day. Held,
no-show and cancelled experiences stay with whoever owned the customer then, so a leaver's
work stays theirs. Existing rows are given their customer's present owner: who owned a
customer when an old experience was held is not on record.

Revision ID: 0025_experience_owner
Revises: 0024_dated_indexes_with_customer
Create Date: 2026-12-05 21:15:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0025_experience_owner"
down_revision = "0024_dated_indexes_with_customer"
branch_labels = None
depends_on = None

OWNER_KEY = "fk_experience_owner_id_staff"
OWNER_INDEX = "ix_experience_owner_id_status_due_on_category"
TRIGGERS = (
    ("experience_owner_on_insert", "experience"),
    ("experience_owner_on_replan", "experience"),
    ("customer_owner_moves_planned_experiences", "customer"),
)
FUNCTIONS = ("experience_owner_from_customer", "planned_experiences_follow_owner")

SQLITE_TRIGGERS = (
    """
    CREATE TRIGGER experience_owner_on_insert AFTER INSERT ON experience
    WHEN NEW.owner_id IS NULL
    BEGIN
        UPDATE experience SET owner_id = (SELECT owner_id FROM customer WHERE id = NEW.customer_id)
        WHERE id = NEW.id;
    END
    """,
    """
    CREATE TRIGGER experience_owner_on_replan AFTER UPDATE OF status ON experience
    WHEN NEW.status = 'planned' AND OLD.status <> 'planned'
    BEGIN
        UPDATE experience SET owner_id = (SELECT owner_id FROM customer WHERE id = NEW.customer_id)
        WHERE id = NEW.id;
    END
    """,
    """
    CREATE TRIGGER customer_owner_moves_planned_experiences AFTER UPDATE OF owner_id ON customer
    WHEN NEW.owner_id IS NOT OLD.owner_id
    BEGIN
        UPDATE experience SET owner_id = NEW.owner_id
        WHERE customer_id = NEW.id AND status = 'planned';
    END
    """,
)

POSTGRESQL_TRIGGERS = (
    """
    CREATE FUNCTION experience_owner_from_customer() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        -- The lock waits for a change of owner under way and holds one off until this
        -- transaction ends, so the owner read is the one the customer keeps. It is the lock
        -- an UPDATE of the customer takes (as planning does, for the next planned day), so
        -- two plans for one customer queue rather than deadlock, as a shared lock would.
        SELECT owner_id INTO NEW.owner_id FROM customer WHERE id = NEW.customer_id
        FOR NO KEY UPDATE;
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE FUNCTION planned_experiences_follow_owner() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE experience SET owner_id = NEW.owner_id
        WHERE customer_id = NEW.id AND status = 'planned';
        RETURN NULL;
    END
    $$
    """,
    # The WHEN clauses are checked before the function is called: a row that has its owner,
    # or an update that changes no owner or status, costs no call.
    """
    CREATE TRIGGER experience_owner_on_insert BEFORE INSERT ON experience
    FOR EACH ROW WHEN (NEW.owner_id IS NULL)
    EXECUTE FUNCTION experience_owner_from_customer()
    """,
    """
    CREATE TRIGGER experience_owner_on_replan BEFORE UPDATE OF status ON experience
    FOR EACH ROW WHEN (NEW.status = 'planned' AND OLD.status <> 'planned')
    EXECUTE FUNCTION experience_owner_from_customer()
    """,
    """
    CREATE TRIGGER customer_owner_moves_planned_experiences AFTER UPDATE OF owner_id ON customer
    FOR EACH ROW WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id)
    EXECUTE FUNCTION planned_experiences_follow_owner()
    """,
)


def upgrade():
    with op.batch_alter_table("experience") as batch_op:
        batch_op.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(OWNER_KEY, "staff", ["owner_id"], ["id"])
    # One statement for every existing experience, not a loop over customers.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "UPDATE experience SET owner_id = c.owner_id FROM customer c "
            "WHERE c.id = experience.customer_id"
        )
        triggers = POSTGRESQL_TRIGGERS
    else:
        op.execute(
            "UPDATE experience SET owner_id = "
            "(SELECT c.owner_id FROM customer c WHERE c.id = experience.customer_id)"
        )
        triggers = SQLITE_TRIGGERS
    op.create_index(OWNER_INDEX, "experience", ["owner_id", "status", "due_on", "category"])
    for statement in triggers:
        op.execute(statement)


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, table in TRIGGERS:
        op.execute(f"DROP TRIGGER {name}" + (f" ON {table}" if postgresql else ""))
    if postgresql:
        for name in FUNCTIONS:
            op.execute(f"DROP FUNCTION {name}()")
    op.drop_index(OWNER_INDEX, table_name="experience")
    with op.batch_alter_table("experience") as batch_op:
        batch_op.drop_constraint(OWNER_KEY, type_="foreignkey")
        batch_op.drop_column("owner_id")
