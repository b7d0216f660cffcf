"""customer last contact and next planned experience, stored for sorting

The customer list sorts by the day of each customer's last contact and of their next planned
experience (crm.services.planning.contact_dates says what counts), paging by (value, id) as
0012's sorts do: an index for each, the whole bank's, a branch's and an owner's. Existing
customers are filled from the experience table in one statement. "Next planned" is from
today on: the database's today here; the nightly planner refreshes it in the business's zone.

Revision ID: 0019_contact_sorting
Revises: 0018_dashboard
Create Date: 2026-12-05 09:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0019_contact_sorting"
down_revision = "0018_dashboard"
branch_labels = None
depends_on = None

COLUMNS = ("last_contact_on", "next_planned_on")
INDEXES = tuple(
    (f"ix_customer_{prefix}{column}_id", [*scope, column, "id"])
    for column in COLUMNS
    for prefix, scope in (("", []), ("branch_id_", ["branch_id"]), ("owner_id_", ["owner_id"]))
)

BACKFILL = """
UPDATE customer SET
    last_contact_on = (
        SELECT max(e.held_on) FROM experience e
        WHERE e.customer_id = customer.id AND e.status IN ('done', 'no_show')
    ),
    next_planned_on = (
        SELECT min(e.due_on) FROM experience e
        WHERE e.customer_id = customer.id AND e.status = 'planned' AND e.due_on >= CURRENT_DATE
    )
"""


def upgrade():
    with op.batch_alter_table("customer", schema=None) as batch_op:
        for column in COLUMNS:
            batch_op.add_column(sa.Column(column, sa.Date(), nullable=True))
    op.execute(BACKFILL)
    with op.batch_alter_table("customer", schema=None) as batch_op:
        for name, columns in INDEXES:
            batch_op.create_index(name, columns, unique=False)


def downgrade():
    with op.batch_alter_table("customer", schema=None) as batch_op:
        for name, _ in reversed(INDEXES):
            batch_op.drop_index(name)
        for column in reversed(COLUMNS):
            batch_op.drop_column(column)
