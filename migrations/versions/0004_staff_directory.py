"""staff directory: district and active on staffmember (PRIV-4)

Revision ID: 0004_staff_directory
Revises: 0002_esc1
Create Date: 2026-11-29 19:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004_staff_directory"
down_revision = "0002_esc1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staffmember", schema=None) as batch_op:
        batch_op.add_column(sa.Column("district", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.add_column(sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("staffmember", schema=None) as batch_op:
        batch_op.drop_column("active")
        batch_op.drop_column("district")
