"""stalls: a deadline records how far up its escalation ladder it has climbed; an urgent meeting its reason (issue 17)

Revision ID: 0006_stalls
Revises: 0003_delivery
Create Date: 2026-11-29 22:15:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006_stalls'
down_revision = '0003_delivery'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('deadline', schema=None) as batch_op:
        batch_op.add_column(sa.Column('escalation_step', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.add_column(sa.Column('urgent_reason', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_column('urgent_reason')
    with op.batch_alter_table('deadline', schema=None) as batch_op:
        batch_op.drop_column('escalation_step')
