"""product shelf and background jobs (to be filled)

Revision ID: 0010_product_shelf
Revises: 0009_churn_warning
Create Date: 2026-12-05 03:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_product_shelf'
down_revision = '0009_churn_warning'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
