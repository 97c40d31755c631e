"""web: a local account's argon2 password hash on the staff directory (issue 18)

Revision ID: 0007_web
Revises: 0006_stalls
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0007_web"
down_revision = "0006_stalls"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staffmember", schema=None) as batch_op:
        batch_op.add_column(sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staffmember", schema=None) as batch_op:
        batch_op.drop_column("password_hash")
