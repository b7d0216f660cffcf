"""churn warning: the customer's relationship status and churn risk (to be filled)

Revision ID: 0009_churn_warning
Revises: 0008_name_search
Create Date: 2026-12-05 03:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_churn_warning'
down_revision = '0008_name_search'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
