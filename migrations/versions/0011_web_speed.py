"""web speed: indexes for "Vores sager" and "I dag" at scale, and the server side of web sessions (issue 18)

- ix_case_open_institution (institution_id, id) WHERE status <> 'closed': an institution's open cases newest first,
  page by page;
- ix_case_open_unassigned (id) WHERE open and no PPR employee: the coordinator's cases to assign;
- ix_deadline_open_due (due_on, id) / ix_deadline_open_district (district, due_on, id) WHERE done_at IS NULL: overdue,
  today's and this week's open deadlines without reading the handled history; ix_deadline_stuck: the stuck ones;
- websession: the server side of a signed-in cookie, so signing out revokes a copied cookie;
- webreferral: a web referral with its attached file, stored behind the login so the intake flow takes its id.

Revision ID: 0011_web_speed
Revises: 0009_mail
Create Date: 2026-11-30 02:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

from pprflow.models.types import UTCDateTime

revision = '0011_web_speed'
down_revision = '0009_mail'
branch_labels = None
depends_on = None

_OPEN_CASE = sa.text("status <> 'closed'")
_OPEN_UNASSIGNED = sa.text("status <> 'closed' AND assigned_ppr_email IS NULL")
_OPEN_DEADLINE = sa.text("done_at IS NULL")
_STUCK_DEADLINE = sa.text("done_at IS NULL AND stuck_at IS NOT NULL")


def upgrade() -> None:
    op.create_index('ix_case_open_institution', 'case', ['institution_id', 'id'], unique=False,
                    postgresql_where=_OPEN_CASE, sqlite_where=_OPEN_CASE)
    op.create_index('ix_case_open_unassigned', 'case', ['id'], unique=False,
                    postgresql_where=_OPEN_UNASSIGNED, sqlite_where=_OPEN_UNASSIGNED)
    op.create_index('ix_deadline_open_due', 'deadline', ['due_on', 'id'], unique=False,
                    postgresql_where=_OPEN_DEADLINE, sqlite_where=_OPEN_DEADLINE)
    op.create_index('ix_deadline_open_district', 'deadline', ['district', 'due_on', 'id'], unique=False,
                    postgresql_where=_OPEN_DEADLINE, sqlite_where=_OPEN_DEADLINE)
    op.create_index('ix_deadline_stuck', 'deadline', ['due_on', 'id'], unique=False,
                    postgresql_where=_STUCK_DEADLINE, sqlite_where=_STUCK_DEADLINE)
    op.create_table(
        'websession',
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('ended_at', UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_websession_email'), 'websession', ['email'], unique=False)
    op.create_table(
        'webreferral',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('submitted_by', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column('referral', sa.JSON(), nullable=False),
        sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_webreferral_submitted_by'), 'webreferral', ['submitted_by'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_webreferral_submitted_by'), table_name='webreferral')
    op.drop_table('webreferral')
    op.drop_index(op.f('ix_websession_email'), table_name='websession')
    op.drop_table('websession')
    op.drop_index('ix_deadline_stuck', table_name='deadline')
    op.drop_index('ix_deadline_open_district', table_name='deadline')
    op.drop_index('ix_deadline_open_due', table_name='deadline')
    op.drop_index('ix_case_open_unassigned', table_name='case')
    op.drop_index('ix_case_open_institution', table_name='case')
