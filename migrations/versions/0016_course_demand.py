"""Demand for courses: notify-me sign-ups with double opt-in (standard 5)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 22:00:00

Courses get a topic (the institute's subject vocabulary) and the moment staff opened one
from the demand page. A sign-up ("notify me") is kept per address and wish, confirmed by
a mailed link; each mail about a course is recorded once per sign-up and course.
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('topic', sa.Enum('basics', 'classification', 'dual_use', 'tech_transfer', 'catch_all', 'cp_designation', 'cp_practitioner', 'executive_risk', 'us_ear', 'russia_sanctions', 'sme_briefing', 'online_basics', name='topic', native_enum=False, length=20), nullable=True))
        batch_op.add_column(sa.Column('opened_on_demand_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_courses_topic'), ['topic'], unique=False)

    op.create_table('course_interests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('topic', sa.Enum('basics', 'classification', 'dual_use', 'tech_transfer', 'catch_all', 'cp_designation', 'cp_practitioner', 'executive_risk', 'us_ear', 'russia_sanctions', 'sme_briefing', 'online_basics', name='topic', native_enum=False, length=20), nullable=False),
    sa.Column('region', sa.Enum('seoul', 'incheon', 'gyeonggi', 'daejeon', 'daegu', 'busan', 'ulsan', 'changwon', 'gwangju', 'online', name='region', native_enum=False, length=20), nullable=True),
    sa.Column('audience', sa.Enum('executives', 'practitioners', 'newcomers', 'all', name='audience', native_enum=False, length=20), nullable=True),
    sa.Column('wish_key', sa.String(length=64), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('course_id', sa.Integer(), nullable=True),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_course_interests_course_id_courses'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_course_interests_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_interests')),
    sa.UniqueConstraint('email', 'wish_key', name='uq_course_interests_email_wish'),
    sa.UniqueConstraint('token', name=op.f('uq_course_interests_token'))
    )
    with op.batch_alter_table('course_interests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_interests_confirmed_at'), ['confirmed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_course_interests_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_course_interests_user_id'), ['user_id'], unique=False)

    op.create_table('course_interest_notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('interest_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('notified_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_course_interest_notifications_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['interest_id'], ['course_interests.id'], name=op.f('fk_course_interest_notifications_interest_id_course_interests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_interest_notifications')),
    sa.UniqueConstraint('interest_id', 'course_id', name='uq_course_interest_notifications_pair')
    )
    with op.batch_alter_table('course_interest_notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_interest_notifications_course_id'), ['course_id'], unique=False)


def downgrade():
    with op.batch_alter_table('course_interest_notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_interest_notifications_course_id'))

    op.drop_table('course_interest_notifications')

    with op.batch_alter_table('course_interests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_interests_user_id'))
        batch_op.drop_index(batch_op.f('ix_course_interests_email'))
        batch_op.drop_index(batch_op.f('ix_course_interests_confirmed_at'))

    op.drop_table('course_interests')

    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_courses_topic'))
        batch_op.drop_column('opened_on_demand_at')
        batch_op.drop_column('topic')
