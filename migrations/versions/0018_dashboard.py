"""dashboard: an index on quadrant events in customer and time order that holds what each
event moved and the assets it recorded, so the dashboard's as-of figures read it alone

Revision ID: 0018_dashboard
Revises: 0017_monthly_reports
Create Date: 2026-12-05 06:40:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0018_dashboard"
down_revision = "0017_monthly_reports"
branch_labels = None
depends_on = None

INDEX = "ix_quadrant_event_customer_id_at_id_moves"


def upgrade():
    op.create_index(
        INDEX,
        "quadrant_event",
        ["customer_id", "at", "id", "from_quadrant", "to_quadrant", "liquid_assets"],
    )


def downgrade():
    op.drop_index(INDEX, table_name="quadrant_event")
