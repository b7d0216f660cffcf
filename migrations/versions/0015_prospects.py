"""prospects: people met before a dossier is opened (潜在客户), with where they came from

Revision ID: 0015_prospects
Revises: 0014_approvals
Create Date: 2026-12-05 06:40:00

"""

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "0015_prospects"
down_revision = "0014_approvals"
branch_labels = None
depends_on = None

CHANNELS = (
    "bank_manager_client", "private_banking", "corporate", "branch_staff", "other_financial",
    "non_financial", "own_network", "product_buyer", "referral", "cold_visit", "event",
    "survey", "resource_exchange",
)


def upgrade():
    op.create_table(
        "prospect",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("phone_last4", sa.String(length=4), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(*CHANNELS, name="channel", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("group_event_id", sa.Integer(), nullable=True),
        sa.Column("referred_by_id", sa.Integer(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "new", "contacted", "qualified", "converted", "discarded",
                name="prospect_status", native_enum=False, create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("discard_reason", sa.String(length=500), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("converted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status <> 'discarded' OR discard_reason IS NOT NULL",
            name=op.f("ck_prospect_discarded_with_reason"),
        ),
        sa.CheckConstraint(
            "(status = 'converted') = (customer_id IS NOT NULL)",
            name=op.f("ck_prospect_converted_with_dossier"),
        ),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_prospect_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_prospect_customer_id_customer")
        ),
        sa.ForeignKeyConstraint(
            ["group_event_id"], ["group_event.id"],
            name=op.f("fk_prospect_group_event_id_group_event"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["staff.id"], name=op.f("fk_prospect_owner_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["referred_by_id"], ["customer.id"], name=op.f("fk_prospect_referred_by_id_customer")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prospect")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_prospect_customer_id")),
        sa.UniqueConstraint("phone", name=op.f("uq_prospect_phone")),
    )
    with op.batch_alter_table("prospect", schema=None) as batch_op:
        batch_op.create_index("ix_prospect_owner_id_id", ["owner_id", "id"], unique=False)
        batch_op.create_index("ix_prospect_branch_id_id", ["branch_id", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_prospect_group_event_id"), ["group_event_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_prospect_referred_by_id"), ["referred_by_id"], unique=False
        )


def downgrade():
    op.drop_table("prospect")
