"""Published service-standards reports, one per year

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 22:00:00

Staff publish a year's report; the public page shows the snapshot of the figures taken
then, until staff publish again.
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('standards_reports',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=False),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('year BETWEEN 2000 AND 2100', name=op.f('ck_standards_reports_year_range')),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_standards_reports_published_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_standards_reports'))
    )


def downgrade():
    op.drop_table('standards_reports')
