"""monthly reports: last month's migration, effectiveness and follow-up reports per branch and
language, kept for the branch's managers (monthly_report); notifications that they are ready

Revision ID: 0017_monthly_reports
Revises: 0016_opportunities
Create Date: 2026-12-05 06:40:00

"""

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "0017_monthly_reports"
down_revision = "0016_opportunities"
branch_labels = None
depends_on = None

# The notification kinds as 0014_approvals left them, and with this one's.
OLD_KINDS = ("digest", "visit_reminder", "handover", "approval")
NEW_KINDS = (*OLD_KINDS, "monthly_report")


def _kinds_check(kinds):
    values = ", ".join(f"'{kind}'" for kind in kinds)
    return f"kind IN ({values})"


def upgrade():
    op.create_table(
        "monthly_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("migration", "effectiveness", "followup", name="report_kind",
                    native_enum=False, create_constraint=True, length=13),
            nullable=False,
        ),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column(
            "status",
            sa.Enum("pending", "ready", "failed", name="report_status",
                    native_enum=False, create_constraint=True, length=7),
            nullable=False,
        ),
        sa.Column("file_path", sa.String(length=300), nullable=True),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_monthly_report_branch_id_branch"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monthly_report")),
        sa.UniqueConstraint(
            "branch_id", "month", "kind", "language", name="uq_monthly_report_branch_month"
        ),
    )
    with op.batch_alter_table("monthly_report", schema=None) as batch_op:
        batch_op.create_index("ix_monthly_report_month", ["month"], unique=False)

    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_notification_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_notification_kind"), _kinds_check(NEW_KINDS))


def downgrade():
    op.execute("DELETE FROM notification WHERE kind = 'monthly_report'")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_notification_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_notification_kind"), _kinds_check(OLD_KINDS))

    with op.batch_alter_table("monthly_report", schema=None) as batch_op:
        batch_op.drop_index("ix_monthly_report_month")
    op.drop_table("monthly_report")
