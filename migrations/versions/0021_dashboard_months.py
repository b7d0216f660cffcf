"""the dashboard's monthly figures per branch, kept by the scheduler (dashboard_month, and
dashboard_build saying what they cover); an index on experience for the team page's counts
and the dashboard's budgets

Revision ID: 0021_dashboard_months
Revises: 0020_event_types
Create Date: 2026-12-05 09:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0021_dashboard_months"
down_revision = "0020_event_types"
branch_labels = None
depends_on = None


# Money as crm.models.base.Money stores it: integer fen on SQLite, numeric yuan elsewhere.
MONEY = sa.Numeric(18, 2).with_variant(sa.BigInteger(), "sqlite")
# The team page's counts of experiences per customer and the dashboard's budget used, read
# from the index alone.
TEAM_INDEX = "ix_experience_customer_id_status_due_on_costs"
QUADRANTS = ("develop", "maintain", "cultivate", "pamper")


def _quadrant(name):
    return sa.Enum(*QUADRANTS, name=name, native_enum=False, create_constraint=True)


def upgrade():
    op.create_table(
        "dashboard_month",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("from_quadrant", _quadrant("from_quadrant"), nullable=True),
        sa.Column("to_quadrant", _quadrant("to_quadrant"), nullable=False),
        sa.Column("left_quadrant", _quadrant("left_quadrant"), nullable=True),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("placed_assets", MONEY, nullable=False),
        sa.Column("taken_assets", MONEY, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_month")),
    )
    with op.batch_alter_table("dashboard_month", schema=None) as batch_op:
        batch_op.create_index("ix_dashboard_month_branch_id_month", ["branch_id", "month"])
    with op.batch_alter_table("experience", schema=None) as batch_op:
        batch_op.create_index(
            TEAM_INDEX,
            [
                "customer_id",
                "status",
                "due_on",
                "category",
                "held_on",
                "planned_cost",
                "actual_cost",
            ],
            unique=False,
        )
    op.create_table(
        "dashboard_build",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_mark", sa.Integer(), nullable=False),
        sa.Column("audit_mark", sa.Integer(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_build")),
    )


def downgrade():
    op.drop_table("dashboard_build")
    with op.batch_alter_table("experience", schema=None) as batch_op:
        batch_op.drop_index(TEAM_INDEX)
    with op.batch_alter_table("dashboard_month", schema=None) as batch_op:
        batch_op.drop_index("ix_dashboard_month_branch_id_month")
    op.drop_table("dashboard_month")
