"""the customer list's sorts and total: an index for each sort, whole bank and per branch, and
one for a branch's quadrant

The list sorts by name (pinyin), liquid assets and willingness, paging by (value, id); these
indexes let a page, however deep, be a short range read for an admin (the whole bank) and for
a branch manager (one branch) and for a relationship manager (their own). The name's
whole-bank index is 0008's.

Revision ID: 0012_list_sorting
Revises: 0011_occasions
Create Date: 2026-12-05 03:20:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0012_list_sorting"
down_revision = "0011_occasions"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_customer_liquid_assets_id", ["liquid_assets", "id"]),
    ("ix_customer_willingness_id", ["willingness", "id"]),
    ("ix_customer_branch_id_name_pinyin_id", ["branch_id", "name_pinyin", "id"]),
    ("ix_customer_branch_id_liquid_assets_id", ["branch_id", "liquid_assets", "id"]),
    ("ix_customer_branch_id_willingness_id", ["branch_id", "willingness", "id"]),
    # A relationship manager's own list: without these PostgreSQL walks the bank's sort index
    # for the owner's few rows (50 ms at a million customers).
    ("ix_customer_owner_id_name_pinyin_id", ["owner_id", "name_pinyin", "id"]),
    ("ix_customer_owner_id_liquid_assets_id", ["owner_id", "liquid_assets", "id"]),
    ("ix_customer_owner_id_willingness_id", ["owner_id", "willingness", "id"]),
    # The list's total (counted to 10,001) for a branch's quadrant, off the index alone.
    ("ix_customer_branch_id_quadrant_id", ["branch_id", "quadrant", "id"]),
)


def upgrade():
    with op.batch_alter_table("customer", schema=None) as batch_op:
        for name, columns in INDEXES:
            batch_op.create_index(name, columns, unique=False)


def downgrade():
    with op.batch_alter_table("customer", schema=None) as batch_op:
        for name, _ in reversed(INDEXES):
            batch_op.drop_index(name)
