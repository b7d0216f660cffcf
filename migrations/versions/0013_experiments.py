"""experiments: holdout experiments on a touchpoint category, each customer's arm, and the
plans that broke a holdout after a warning

An experiment withholds a category from a random share of the customers it covers; the
assignment keeps each customer's arm with the stratum and covariates it was drawn on, and
the contamination table counts what staff planned for a holdout customer anyway.

Revision ID: 0013_experiments
Revises: 0012_list_sorting
Create Date: 2026-12-05 06:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013_experiments"
down_revision = "0012_list_sorting"
branch_labels = None
depends_on = None

TOUCHPOINTS = ("routine", "visit", "event", "premium_event", "lifestyle", "bespoke")
QUADRANTS = ("develop", "maintain", "cultivate", "pamper")
MONEY = sa.Numeric(18, 2).with_variant(sa.BigInteger(), "sqlite")


def _enum(values, name):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True)


def upgrade():
    op.create_table(
        "experiment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("hypothesis", sa.Text(), nullable=True),
        sa.Column("category", _enum(TOUCHPOINTS, "category"), nullable=False),
        sa.Column("quadrants", sa.JSON(), nullable=False),
        sa.Column("branch_ids", sa.JSON(), nullable=False),
        sa.Column("holdout_share", sa.Numeric(3, 2), nullable=False),
        sa.Column(
            "metric",
            _enum(
                ("upward_move", "willingness_change", "policy_bought", "premium", "lost"),
                "metric",
            ),
            nullable=False,
        ),
        sa.Column("horizon_days", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            _enum(("draft", "running", "stopped", "analysed"), "experiment_status"),
            nullable=False,
        ),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("stopped_on", sa.Date(), nullable=True),
        sa.Column("analysed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "holdout_share >= 0.05 AND holdout_share <= 0.50",
            name=op.f("ck_experiment_holdout_share_range"),
        ),
        sa.CheckConstraint("horizon_days > 0", name=op.f("ck_experiment_horizon_days_positive")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["staff.id"], name=op.f("fk_experiment_created_by_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiment")),
    )
    with op.batch_alter_table("experiment", schema=None) as batch_op:
        batch_op.create_index("ix_experiment_status_category", ["status", "category"], unique=False)

    op.create_table(
        "experiment_assignment",
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("arm", _enum(("treatment", "holdout"), "arm"), nullable=False),
        sa.Column("quadrant", _enum(QUADRANTS, "quadrant"), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("liquid_assets", MONEY, nullable=False),
        sa.Column("willingness", sa.Integer(), nullable=False),
        sa.Column("age", sa.SmallInteger(), nullable=True),
        sa.Column("assigned_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_experiment_assignment_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiment.id"],
            name=op.f("fk_experiment_assignment_experiment_id_experiment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "experiment_id", "customer_id", name=op.f("pk_experiment_assignment")
        ),
    )
    with op.batch_alter_table("experiment_assignment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_experiment_assignment_customer_id_arm", ["customer_id", "arm"], unique=False
        )

    op.create_table(
        "experiment_contamination",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("experience_id", sa.Integer(), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_experiment_contamination_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["experience_id"],
            ["experience.id"],
            name=op.f("fk_experiment_contamination_experience_id_experience"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiment.id"],
            name=op.f("fk_experiment_contamination_experiment_id_experiment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_experiment_contamination_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiment_contamination")),
    )
    with op.batch_alter_table("experiment_contamination", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_experiment_contamination_experiment_id"), ["experiment_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("experiment_contamination", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_experiment_contamination_experiment_id"))
    op.drop_table("experiment_contamination")
    with op.batch_alter_table("experiment_assignment", schema=None) as batch_op:
        batch_op.drop_index("ix_experiment_assignment_customer_id_arm")
    op.drop_table("experiment_assignment")
    with op.batch_alter_table("experiment", schema=None) as batch_op:
        batch_op.drop_index("ix_experiment_status_category")
    op.drop_table("experiment")
