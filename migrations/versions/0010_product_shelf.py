"""product shelf and background jobs: products as data admins keep (insurer, term, payment
modes, investment-type, age bands, dates on sale, a version; the protection and deposit types;
name and insurer unique together), seeded with seed 003's age bands; the queue of long work
that web requests hand to the scheduler process (background_job)

Revision ID: 0010_product_shelf
Revises: 0009_churn_warning
Create Date: 2026-12-05 03:10:00

"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_product_shelf'
down_revision = '0009_churn_warning'
branch_labels = None
depends_on = None

OLD_TYPES = ('participating', 'universal', 'annuity', 'whole_life', 'critical_illness',
             'medical', 'accident', 'investment_linked')
NEW_TYPES = ('protection', *OLD_TYPES, 'deposit')

# Seed 003's conversion hints pair an age band with a need and the products that answer it;
# the shelf now says which ages each product suits. Participating, universal and
# investment-linked are investment-type (投资型) under seed 000's sale rules.
SEEDED = {
    # name: (age bands, investment_type)
    '意外伤害保险': ('20-30', False),
    '医疗保险': ('20-30', False),
    '重大疾病保险': ('20-30', False),
    '终身寿险': ('51-60', False),
    '分红型两全保险': ('31-40,51-60', True),
    '年金保险': ('31-50', False),
    '万能型终身寿险': ('41-50', True),
    '投资连结保险': ('', True),
}
ADDED = (
    # name, insurer, type, risk, age bands
    ('定期寿险', '', 'protection', 'R1', '20-30'),
    ('定期存款', '本行', 'deposit', 'R1', '61-'),
)


def _types_check(column_types):
    values = ", ".join(f"'{value}'" for value in column_types)
    return f"product_type IN ({values})"


def upgrade():
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.add_column(sa.Column('insurer', sa.String(length=120), server_default='', nullable=False))
        batch_op.add_column(sa.Column('term_years', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('single_premium', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('regular_years', sa.String(length=60), server_default='', nullable=False))
        batch_op.add_column(sa.Column('investment_type', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('age_bands', sa.String(length=60), server_default='', nullable=False))
        batch_op.add_column(sa.Column('active_from', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('active_to', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint('uq_product_name', type_='unique')
        batch_op.create_unique_constraint('uq_product_name_insurer', ['name', 'insurer'])
        batch_op.drop_constraint(op.f('ck_product_product_type'), type_='check')
        batch_op.create_check_constraint(op.f('ck_product_product_type'), _types_check(NEW_TYPES))
        batch_op.create_check_constraint(op.f('ck_product_term_range'), 'term_years IS NULL OR term_years BETWEEN 1 AND 100')
        batch_op.create_check_constraint(op.f('ck_product_active_window'), 'active_from IS NULL OR active_to IS NULL OR active_to >= active_from')

    with op.batch_alter_table('policy', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_policy_product_type'), type_='check')
        batch_op.create_check_constraint(op.f('ck_policy_product_type'), _types_check(NEW_TYPES))

    product = sa.table(
        'product',
        sa.column('name', sa.String),
        sa.column('insurer', sa.String),
        sa.column('product_type', sa.String),
        sa.column('risk_level', sa.String),
        sa.column('age_bands', sa.String),
        sa.column('investment_type', sa.Boolean),
        sa.column('active', sa.Boolean),
        sa.column('created_at', sa.DateTime(timezone=True)),
    )
    for name, (bands, investment) in SEEDED.items():
        op.execute(
            product.update()
            .where(product.c.name == name, product.c.insurer == '')
            .values(age_bands=bands, investment_type=investment)
        )
    now = datetime.now(UTC)
    op.bulk_insert(product, [
        {'name': name, 'insurer': insurer, 'product_type': kind, 'risk_level': level,
         'age_bands': bands, 'investment_type': False, 'active': True, 'created_at': now}
        for name, insurer, kind, level, bands in ADDED
    ])

    op.create_table('background_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('state', sa.Enum('queued', 'running', 'done', 'failed', name='job_state', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('lane', sa.String(length=10), nullable=True),
    sa.Column('done', sa.Integer(), server_default='0', nullable=False),
    sa.Column('total', sa.Integer(), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('failure', sa.String(length=500), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('holder', sa.String(length=120), nullable=True),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['requested_by_id'], ['staff.id'], name=op.f('fk_background_job_requested_by_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_background_job')),
    sa.UniqueConstraint('lane', name=op.f('uq_background_job_lane'))
    )
    with op.batch_alter_table('background_job', schema=None) as batch_op:
        batch_op.create_index('ix_background_job_kind_id', ['kind', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('background_job', schema=None) as batch_op:
        batch_op.drop_index('ix_background_job_kind_id')
    op.drop_table('background_job')

    op.execute(sa.text("DELETE FROM product WHERE product_type IN ('protection', 'deposit')"))
    with op.batch_alter_table('policy', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_policy_product_type'), type_='check')
        batch_op.create_check_constraint(op.f('ck_policy_product_type'), _types_check(OLD_TYPES))

    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_product_active_window'), type_='check')
        batch_op.drop_constraint(op.f('ck_product_term_range'), type_='check')
        batch_op.drop_constraint(op.f('ck_product_product_type'), type_='check')
        batch_op.create_check_constraint(op.f('ck_product_product_type'), _types_check(OLD_TYPES))
        batch_op.drop_constraint('uq_product_name_insurer', type_='unique')
        batch_op.create_unique_constraint('uq_product_name', ['name'])
        for column in ('updated_at', 'version', 'active_to', 'active_from', 'age_bands',
                       'investment_type', 'regular_years', 'single_premium',
                       'term_years', 'insurer'):
            batch_op.drop_column(column)
