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


def _enum(*values, name):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True)


LEVELS = ('low', 'medium', 'high')


def upgrade():
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'relationship_status', _enum('active', 'dormant', 'lost', name='relationship_status'),
            server_default='active', nullable=False))
        batch_op.add_column(sa.Column(
            'lost_reason',
            _enum('surrendered', 'assets_moved', 'moved_away', 'deceased', 'other', name='lost_reason'),
            nullable=True))
        batch_op.add_column(sa.Column('lost_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('churn_score', sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column('churn_level', _enum(*LEVELS, name='churn_level'), nullable=True))
        batch_op.add_column(sa.Column('churn_reasons', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('churn_scored_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint(op.f('ck_customer_churn_score_range'), 'churn_score BETWEEN 0 AND 100')
        batch_op.create_index('ix_customer_churn_level_id', ['churn_level', 'id'], unique=False)
        batch_op.create_index('ix_customer_owner_id_churn_level_id', ['owner_id', 'churn_level', 'id'], unique=False)

    if op.get_bind().dialect.name == 'postgresql':
        # The nightly scoring rewrites the scores of the customers whose score changed; with
        # room left on each page PostgreSQL keeps the new row beside the old one and, when no
        # indexed column changed (the level mostly stays), leaves the indexes alone.
        op.execute('ALTER TABLE customer SET (fillfactor = 90)')

    op.create_table('churn_score_day',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('scored_on', sa.Date(), nullable=False),
    sa.Column('score', sa.SmallInteger(), nullable=False),
    sa.Column('level', _enum(*LEVELS, name='level'), nullable=False),
    sa.Column('previous_level', _enum(*LEVELS, name='previous_level'), nullable=True),
    sa.Column('scored_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('score BETWEEN 0 AND 100', name=op.f('ck_churn_score_day_score_range')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_churn_score_day_customer_id_customer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_churn_score_day')),
    sa.UniqueConstraint('customer_id', 'scored_on', name='uq_churn_score_day_customer_day')
    )
    with op.batch_alter_table('churn_score_day', schema=None) as batch_op:
        batch_op.create_index('ix_churn_score_day_scored_on_level', ['scored_on', 'level'], unique=False)


def downgrade():
    with op.batch_alter_table('churn_score_day', schema=None) as batch_op:
        batch_op.drop_index('ix_churn_score_day_scored_on_level')
    op.drop_table('churn_score_day')

    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE customer RESET (fillfactor)')
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_owner_id_churn_level_id')
        batch_op.drop_index('ix_customer_churn_level_id')
        # SQLite's batch copy keeps a column's CHECK unless it is dropped first.
        for constraint in ('churn_score_range', 'churn_level', 'lost_reason', 'relationship_status'):
            batch_op.drop_constraint(op.f(f'ck_customer_{constraint}'), type_='check')
        batch_op.drop_column('churn_scored_at')
        batch_op.drop_column('churn_reasons')
        batch_op.drop_column('churn_level')
        batch_op.drop_column('churn_score')
        batch_op.drop_column('lost_on')
        batch_op.drop_column('lost_reason')
        batch_op.drop_column('relationship_status')
