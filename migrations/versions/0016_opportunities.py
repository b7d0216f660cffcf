"""opportunities (商机) and the sale's compliance: the opportunity table (a customer, a shelf
product, expected premium and payment mode, the stage and the stage it was lost from, dates,
its source), and on the policy the opportunity it won, the dual-recording reference (双录编号),
the hypothetical-returns notice shown and the risk acknowledged (seed 000)

Revision ID: 0016_opportunities
Revises: 0015_prospects
Create Date: 2026-12-05 06:40:00

"""

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "0016_opportunities"
down_revision = "0015_prospects"
branch_labels = None
depends_on = None

STAGES = ("lead", "needs", "proposal", "closing", "won", "lost")


def _money():
    return sa.Numeric(18, 2).with_variant(sa.BigInteger(), "sqlite")


def _stage(name):
    return sa.Enum(*STAGES, name=name, native_enum=False, create_constraint=True)


def upgrade():
    op.create_table(
        "opportunity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("expected_premium", _money(), nullable=False),
        sa.Column(
            "payment_mode",
            sa.Enum("regular", "single", name="payment_mode", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("stage", _stage("sales_stage"), nullable=False),
        sa.Column("lost_from", _stage("lost_from_stage"), nullable=True),
        sa.Column("lost_reason", sa.String(length=200), nullable=True),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("expected_close_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column(
            "source",
            sa.Enum(
                "experience", "callback", "referral", "event", "other",
                name="opportunity_source", native_enum=False, create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("experience_id", sa.Integer(), nullable=True),
        sa.Column("callback_id", sa.Integer(), nullable=True),
        sa.Column("referrer_id", sa.Integer(), nullable=True),
        sa.Column("group_event_id", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "expected_close_on >= opened_on",
            name=op.f("ck_opportunity_opportunity_closes_after_opening"),
        ),
        sa.CheckConstraint(
            "expected_premium > 0", name=op.f("ck_opportunity_expected_premium_positive")
        ),
        sa.ForeignKeyConstraint(
            ["callback_id"], ["maturity_callback.id"],
            name=op.f("fk_opportunity_callback_id_maturity_callback"), ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"],
            name=op.f("fk_opportunity_customer_id_customer"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["experience_id"], ["experience.id"],
            name=op.f("fk_opportunity_experience_id_experience"), ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["group_event_id"], ["group_event.id"],
            name=op.f("fk_opportunity_group_event_id_group_event"), ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["staff.id"], name=op.f("fk_opportunity_owner_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_opportunity_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_opportunity_product_id_product")
        ),
        sa.ForeignKeyConstraint(
            ["referrer_id"], ["customer.id"],
            name=op.f("fk_opportunity_referrer_id_customer"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opportunity")),
    )
    with op.batch_alter_table("opportunity", schema=None) as batch_op:
        batch_op.create_index("ix_opportunity_customer_stage", ["customer_id", "stage"], unique=False)
        batch_op.create_index(
            "ix_opportunity_owner_stage_close",
            ["owner_id", "stage", "expected_close_on", "expected_premium"],
            unique=False,
        )
        batch_op.create_index(
            "ix_opportunity_branch_stage_close",
            ["branch_id", "stage", "expected_close_on", "expected_premium"],
            unique=False,
        )
        batch_op.create_index(
            "ix_opportunity_branch_opened_on",
            ["branch_id", "opened_on", "owner_id", "stage", "lost_from", "payment_mode",
             "expected_premium", "closed_on"],
            unique=False,
        )
        batch_op.create_index("ix_opportunity_opened_on", ["opened_on"], unique=False)

    with op.batch_alter_table("policy", schema=None) as batch_op:
        batch_op.add_column(sa.Column("opportunity_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("dual_recording_ref", sa.String(length=60), nullable=True))
        batch_op.add_column(
            sa.Column("returns_notice_shown", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("risk_acknowledged", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index(batch_op.f("ix_policy_opportunity_id"), ["opportunity_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_policy_opportunity_id_opportunity"),
            "opportunity", ["opportunity_id"], ["id"], ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("policy", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_policy_opportunity_id_opportunity"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_policy_opportunity_id"))
        batch_op.drop_column("risk_acknowledged")
        batch_op.drop_column("returns_notice_shown")
        batch_op.drop_column("dual_recording_ref")
        batch_op.drop_column("opportunity_id")

    with op.batch_alter_table("opportunity", schema=None) as batch_op:
        batch_op.drop_index("ix_opportunity_opened_on")
        batch_op.drop_index("ix_opportunity_branch_opened_on")
        batch_op.drop_index("ix_opportunity_branch_stage_close")
        batch_op.drop_index("ix_opportunity_owner_stage_close")
        batch_op.drop_index("ix_opportunity_customer_stage")
    op.drop_table("opportunity")
