"""The certificate's survey gate as a flag, not a day

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 08:00:00

The day a learner submitted the post-course survey was stamped on the enrolment; with the
sealed, batched survey answers only the fact is kept.
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('survey_submitted', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.execute("UPDATE enrollments SET survey_submitted = TRUE WHERE survey_answered_on IS NOT NULL")
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.drop_column('survey_answered_on')


def downgrade():
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('survey_answered_on', sa.Date(), nullable=True))
    # The day is gone for good; the submission date of a migrated-back row is unknown.
    op.execute("UPDATE enrollments SET survey_answered_on = CURRENT_DATE WHERE survey_submitted")
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.drop_column('survey_submitted')
