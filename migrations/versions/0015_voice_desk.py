"""The customers' voice desk: inquiries, proposals and complaints (standard 12)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 22:00:00

PLACEHOLDER: this revision is reserved; its owner fills upgrade() and downgrade().
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
