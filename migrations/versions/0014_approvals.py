"""approval requests: a plan refused for the budget or a × mark, waiting for a branch
manager with the staff member's reason, and how it was decided; notifications of a handover
and of a decided request

Revision ID: 0014_approvals
Revises: 0013_experiments
Create Date: 2026-12-05 06:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0014_approvals"
down_revision = "0013_experiments"
branch_labels = None
depends_on = None

OLD_KINDS = ("digest", "visit_reminder")
NEW_KINDS = (*OLD_KINDS, "handover", "approval")


def _kinds_check(kinds) -> str:
    return "kind IN ({})".format(", ".join(f"'{k}'" for k in kinds))


def upgrade():
    op.create_table(
        "approval_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "routine",
                "visit",
                "event",
                "premium_event",
                "lifestyle",
                "bespoke",
                name="category",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column(
            "planned_cost",
            sa.Numeric(18, 2).with_variant(sa.BigInteger(), "sqlite"),
            nullable=False,
        ),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("refused_for", sa.String(length=40), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "approved",
                "declined",
                name="approval_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.String(length=500), nullable=True),
        sa.Column("experience_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "planned_cost >= 0", name=op.f("ck_approval_request_planned_cost_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_approval_request_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_approval_request_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["staff.id"], name=op.f("fk_approval_request_decided_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["experience_id"],
            ["experience.id"],
            name=op.f("fk_approval_request_experience_id_experience"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["staff.id"],
            name=op.f("fk_approval_request_requested_by_id_staff"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_request")),
    )
    with op.batch_alter_table("approval_request", schema=None) as batch_op:
        batch_op.create_index(
            "ix_approval_request_branch_id_status_id", ["branch_id", "status", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_approval_request_customer_id"), ["customer_id"], unique=False
        )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_notification_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_notification_kind"), _kinds_check(NEW_KINDS))


def downgrade():
    op.execute(
        sa.text(
            "DELETE FROM notification WHERE kind NOT IN ({})".format(
                ", ".join(f"'{k}'" for k in OLD_KINDS)
            )
        )
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_notification_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_notification_kind"), _kinds_check(OLD_KINDS))
    with op.batch_alter_table("approval_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_approval_request_customer_id"))
        batch_op.drop_index("ix_approval_request_branch_id_status_id")
    op.drop_table("approval_request")
