"""Published service-standards reports, one per year

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 22:00:00

PLACEHOLDER: this revision is reserved; its owner fills upgrade() and downgrade().
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
