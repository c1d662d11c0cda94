"""Course materials: files handed out to a course's learners (standard 7)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 22:00:00

PLACEHOLDER: this revision is reserved; its owner fills upgrade() and downgrade().
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
