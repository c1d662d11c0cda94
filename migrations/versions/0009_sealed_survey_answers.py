"""Sealed survey answers, released in batches

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 09:00:00

Submitted answers wait, sealed, in `survey_pending_answers` until a batch of their group is
released; the invitation keeps only that it was used (`submitted`), and a response released
below the batch size says so (`small_batch`).

The downgrade drops the pending box: answers still sealed in it are lost (run
`flask surveys release-due` first); their links stay refused, stamped answered today.
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('survey_pending_answers',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.Enum('post_course', 'half_yearly', name='surveykind', native_enum=False, length=20), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=True),
    sa.Column('half', sa.String(length=6), nullable=True),
    sa.Column('template_id', sa.Integer(), nullable=False),
    sa.Column('after_close', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('sealed', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_survey_pending_answers_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['template_id'], ['survey_templates.id'], name=op.f('fk_survey_pending_answers_template_id_survey_templates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_pending_answers'))
    )
    with op.batch_alter_table('survey_pending_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_pending_answers_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_pending_answers_template_id'), ['template_id'], unique=False)

    with op.batch_alter_table('survey_invitations', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('submitted', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.execute("UPDATE survey_invitations SET submitted = TRUE WHERE answered_on IS NOT NULL")

    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('small_batch', sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.drop_column('small_batch')

    # Before 0009 a link was used once answered: keep the used ones refused.
    op.execute(
        "UPDATE survey_invitations SET answered_on = CURRENT_DATE "
        "WHERE submitted AND answered_on IS NULL"
    )
    with op.batch_alter_table('survey_invitations', schema=None) as batch_op:
        batch_op.drop_column('submitted')

    with op.batch_alter_table('survey_pending_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_pending_answers_template_id'))
        batch_op.drop_index(batch_op.f('ix_survey_pending_answers_course_id'))

    op.drop_table('survey_pending_answers')
