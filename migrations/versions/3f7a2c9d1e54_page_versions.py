"""page versions: member.page_version and the academy's page_epoch row, for cached member pages

Revision ID: 3f7a2c9d1e54
Revises: 67b908aa60fe
Create Date: 2026-11-25 03:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3f7a2c9d1e54'
down_revision = '67b908aa60fe'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('page_version', sa.Integer(), server_default='0', nullable=False))
    epoch = op.create_table(
        'page_epoch',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), server_default='0', nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_page_epoch')),
    )
    op.bulk_insert(epoch, [{'id': 1, 'version': 0}])


def downgrade():
    op.drop_table('page_epoch')
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_column('page_version')
