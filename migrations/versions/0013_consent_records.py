"""Consent records: what a person agreed to at registration, and withdrew

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 22:00:00

PLACEHOLDER: this revision is reserved; its owner fills upgrade() and downgrade().
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
