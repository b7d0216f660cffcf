"""group event types with the asset tiers each suits, and cost limits per quadrant and tier

Revision ID: 0020_event_types
Revises: 0019_contact_sorting
Create Date: 2026-12-05 09:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0020_event_types"
down_revision = "0019_contact_sorting"
branch_labels = None
depends_on = None

EVENT_TYPES = ("salon", "appreciation", "private_board", "legacy_lecture")


def upgrade():
    # The tiers each type suits are a setting (crm.services.experiences.event_types), kept in
    # the setting table: only the event's own type is a column.
    with op.batch_alter_table("group_event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "event_type",
                sa.Enum(*EVENT_TYPES, name="event_type", native_enum=False, create_constraint=True),
                server_default="salon",
                nullable=False,
            )
        )
    # Events held before types existed: a premium event reads as a customer appreciation, a
    # general one as a salon; both suit every tier, so no invitation asks anew.
    op.execute(
        "UPDATE group_event SET event_type = 'appreciation' WHERE category = 'premium_event'"
    )


def downgrade():
    with op.batch_alter_table("group_event", schema=None) as batch_op:
        # SQLite's copy of the table would keep the type's CHECK on a column it no longer has.
        batch_op.drop_constraint(batch_op.f("ck_group_event_event_type"), type_="check")
        batch_op.drop_column("event_type")
