"""ops: the per-mailbox throttle window in the database, shared by every run (issue 20)

Revision ID: 0008_ops
Revises: 0007_web
Create Date: 2026-11-29 22:15:00
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0008_ops"
down_revision = "0007_web"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mailboxsend",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mailbox", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("lane", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_mailboxsend_mailbox_at", "mailboxsend", ["mailbox", "at"], unique=False)
    op.create_table(
        "mailboxlock",
        sa.Column("mailbox", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("touched_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("mailbox"),
    )


def downgrade() -> None:
    op.drop_table("mailboxlock")
    op.drop_index("ix_mailboxsend_mailbox_at", table_name="mailboxsend")
    op.drop_table("mailboxsend")
