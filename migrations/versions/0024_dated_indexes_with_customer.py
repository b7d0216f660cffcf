"""the customer on the dated indexes of quadrant events and maturity call-backs

A branch's dashboard reads the bank's quadrant events of the days not yet stored, and the
call-backs of policies maturing in its year, by date, and keeps those of its own customers.
With the customer in the index beside the date, each entry is checked against its customer's
branch without reading its row first; at a million customers most entries are other
branches'.

Revision ID: 0024_dated_indexes_with_customer
Revises: 0023_customer_tag_branch
Create Date: 2026-12-05 13:45:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0024_dated_indexes_with_customer"
down_revision = "0023_customer_tag_branch"
branch_labels = None
depends_on = None

CHANGED = (
    ("quadrant_event", "ix_quadrant_event_at", "at"),
    ("maturity_callback", "ix_maturity_callback_maturity_date", "maturity_date"),
)


def upgrade():
    for table, old, column in CHANGED:
        op.create_index(f"{old}_customer_id", table, [column, "customer_id"], unique=False)
        op.drop_index(old, table_name=table)


def downgrade():
    for table, old, column in CHANGED:
        op.create_index(old, table, [column], unique=False)
        op.drop_index(f"{old}_customer_id", table_name=table)
