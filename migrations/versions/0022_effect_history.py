"""the bank's effect history per quadrant and category, stored nightly

Revision ID: 0022_effect_history
Revises: 0021_dashboard_months
Create Date: 2026-12-05 09:40:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0022_effect_history"
down_revision = "0021_dashboard_months"
branch_labels = None
depends_on = None


QUADRANTS = ("develop", "maintain", "cultivate", "pamper")
CATEGORIES = ("routine", "visit", "event", "premium_event", "lifestyle", "bespoke")


def _enum(*values, name):
    return sa.Enum(
        *values,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(v) for v in values),
    )


def upgrade():
    op.create_table(
        "effect_history",
        sa.Column("quadrant", _enum(*QUADRANTS, name="quadrant"), nullable=False),
        sa.Column("category", _enum(*CATEGORIES, name="category"), nullable=False),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.Column("positive", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "positive BETWEEN 0 AND held", name=op.f("ck_effect_history_positive_within_held")
        ),
        sa.PrimaryKeyConstraint("quadrant", "category", name=op.f("pk_effect_history")),
    )


def downgrade():
    op.drop_table("effect_history")
