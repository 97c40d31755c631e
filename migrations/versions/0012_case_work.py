"""case work: the meeting forms (MEET-3, the dark-blue parents' form), the network map (MEET-5), timeline indexes

Additive: two nullable JSON columns on meeting, the networkperson table, and two composite indexes that let the
case page read a case's timeline newest first without a scan (issue 19, p95 <= 150 ms at 1M open cases).

Revision ID: 0012_case_work
Revises: 0011_web_speed
Create Date: 2026-11-30 02:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import pprflow.models.types

revision = '0012_case_work'
down_revision = '0011_web_speed'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agenda_fields', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('parents_form', sa.JSON(), nullable=True))
    op.create_table(
        'networkperson',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('relation', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('circle', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('contact', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
        sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column('added_at', pprflow.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['case.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('networkperson', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_networkperson_case_id'), ['case_id'], unique=False)
    with op.batch_alter_table('auditevent', schema=None) as batch_op:
        batch_op.create_index('ix_auditevent_case_at', ['case_id', 'at'], unique=False)
    with op.batch_alter_table('case', schema=None) as batch_op:  # ESC-1's look-up of a child's cases, per page
        batch_op.create_index(batch_op.f('ix_case_child_id'), ['child_id'], unique=False)
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_case_created', ['case_id', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_case_created')
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_child_id'))
    with op.batch_alter_table('auditevent', schema=None) as batch_op:
        batch_op.drop_index('ix_auditevent_case_at')
    with op.batch_alter_table('networkperson', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_networkperson_case_id'))
    op.drop_table('networkperson')
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_column('parents_form')
        batch_op.drop_column('agenda_fields')
