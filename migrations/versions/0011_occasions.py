"""occasions and asset tiers (to be filled)

Revision ID: 0011_occasions
Revises: 0010_product_shelf
Create Date: 2026-12-05 03:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_occasions'
down_revision = '0010_product_shelf'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
