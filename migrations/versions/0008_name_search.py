"""name search: each customer's name spelled in pinyin and initials beside it (filled here for
existing customers, in batches), the searched columns compared by code point on PostgreSQL
(collation "C") so that a prefix is a range of an index, and the indexes those ranges and the
phone's last four digits read, with the ids in them.

Revision ID: 0008_name_search
Revises: 0007_staff_sessions
Create Date: 2026-12-06 09:12:31.512806

"""
from alembic import op
import sqlalchemy as sa

from crm.models.spelling import spell


# revision identifiers, used by Alembic.
revision = '0008_name_search'
down_revision = '0007_staff_sessions'
branch_labels = None
depends_on = None

BATCH = 20_000  # customers read, spelled and written back at a time


def _searched(length):
    return sa.String(length).with_variant(sa.String(length, collation='C'), 'postgresql')


def upgrade():
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_name')
        batch_op.drop_index('ix_customer_phone_last4')
        batch_op.add_column(sa.Column('name_pinyin', _searched(360), server_default='', nullable=False))
        batch_op.add_column(sa.Column('name_initials', _searched(60), server_default='', nullable=False))
    if op.get_bind().dialect.name == 'postgresql':
        # Only the collation changes: PostgreSQL keeps the table as it is.
        op.alter_column('customer', 'name', existing_type=sa.String(length=60),
                        type_=sa.String(length=60, collation='C'), existing_nullable=False)

    _spell_existing_customers()

    # The indexes last: built once over the filled columns, not kept up row by row.
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.create_index('ix_customer_name_id', ['name', 'id'], unique=False)
        batch_op.create_index('ix_customer_name_pinyin_id', ['name_pinyin', 'id'], unique=False)
        batch_op.create_index('ix_customer_name_initials_id', ['name_initials', 'id'], unique=False)
        batch_op.create_index('ix_customer_phone_last4_id', ['phone_last4', 'id'], unique=False)


def _spell_existing_customers():
    """Per batch of ids: read the names, spell them, write both columns back in one statement
    (PostgreSQL: an UPDATE … FROM unnest of arrays) or one prepared statement (SQLite)."""
    bind = op.get_bind()
    postgresql = bind.dialect.name == 'postgresql'
    read = sa.text('SELECT id, name FROM customer WHERE id > :last ORDER BY id LIMIT :batch')
    if postgresql:
        write = sa.text(
            'UPDATE customer SET name_pinyin = v.pinyin, name_initials = v.initials '
            'FROM (SELECT unnest(CAST(:ids AS integer[])) AS id, '
            'unnest(CAST(:pinyins AS text[])) AS pinyin, '
            'unnest(CAST(:initials AS text[])) AS initials) AS v '
            'WHERE customer.id = v.id'
        )
    else:
        write = sa.text('UPDATE customer SET name_pinyin = :pinyin, name_initials = :initials WHERE id = :id')
    last = 0
    while True:
        rows = bind.execute(read, {'last': last, 'batch': BATCH}).all()
        if not rows:
            return
        last = rows[-1][0]
        spelled = [(id_, spell(name or '')) for id_, name in rows]
        spelled = [(id_, s) for id_, s in spelled if s.pinyin or s.initials]
        if not spelled:
            continue
        if postgresql:
            bind.execute(write, {
                'ids': [id_ for id_, _ in spelled],
                'pinyins': [s.pinyin for _, s in spelled],
                'initials': [s.initials for _, s in spelled],
            })
        else:
            bind.execute(write, [
                {'id': id_, 'pinyin': s.pinyin, 'initials': s.initials} for id_, s in spelled
            ])


def downgrade():
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_phone_last4_id')
        batch_op.drop_index('ix_customer_name_initials_id')
        batch_op.drop_index('ix_customer_name_pinyin_id')
        batch_op.drop_index('ix_customer_name_id')
        batch_op.drop_column('name_initials')
        batch_op.drop_column('name_pinyin')
    if op.get_bind().dialect.name == 'postgresql':
        op.alter_column('customer', 'name', existing_type=sa.String(length=60, collation='C'),
                        type_=sa.String(length=60), existing_nullable=False)
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.create_index('ix_customer_phone_last4', ['phone_last4'], unique=False)
        batch_op.create_index('ix_customer_name', ['name'], unique=False)
