"""the customer's branch on each tag row, for a branch's tag list

Revision ID: 0023_customer_tag_branch
Revises: 0022_effect_history
Create Date: 2026-12-05 09:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0023_customer_tag_branch"
down_revision = "0022_effect_history"
branch_labels = None
depends_on = None

CUSTOMER_KEY = "ix_customer_id_branch_id"
LINK_KEY = "fk_customer_tag_customer_id_customer"
BRANCH_INDEX = "ix_customer_tag_branch_id_tag_id_customer_id"


def upgrade():
    # The pair a tag row's (customer_id, branch_id) refers to, so that the database itself
    # keeps the copy right: ON UPDATE CASCADE moves a customer's links with any change of
    # branch (handover, reassignment), whoever writes it.
    op.create_index(CUSTOMER_KEY, "customer", ["id", "branch_id"], unique=True)
    with op.batch_alter_table("customer_tag") as batch_op:
        batch_op.add_column(sa.Column("branch_id", sa.Integer(), nullable=True))
    # One statement for every existing link, not a loop over customers.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "UPDATE customer_tag SET branch_id = c.branch_id FROM customer c "
            "WHERE c.id = customer_tag.customer_id"
        )
    else:
        op.execute(
            "UPDATE customer_tag SET branch_id = "
            "(SELECT c.branch_id FROM customer c WHERE c.id = customer_tag.customer_id)"
        )
    with op.batch_alter_table("customer_tag") as batch_op:
        batch_op.alter_column("branch_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint(LINK_KEY, type_="foreignkey")
        batch_op.create_foreign_key(
            LINK_KEY,
            "customer",
            ["customer_id", "branch_id"],
            ["id", "branch_id"],
            ondelete="CASCADE",
            onupdate="CASCADE",
        )
        batch_op.create_index(BRANCH_INDEX, ["branch_id", "tag_id", "customer_id"])


def downgrade():
    with op.batch_alter_table("customer_tag") as batch_op:
        batch_op.drop_index(BRANCH_INDEX)
        batch_op.drop_constraint(LINK_KEY, type_="foreignkey")
        batch_op.create_foreign_key(
            LINK_KEY, "customer", ["customer_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.drop_column("branch_id")
    op.drop_index(CUSTOMER_KEY, table_name="customer")
