"""Demand for courses: notify-me sign-ups with double opt-in (standard 5)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 22:00:00

PLACEHOLDER: this revision is reserved; its owner fills upgrade() and downgrade().
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
