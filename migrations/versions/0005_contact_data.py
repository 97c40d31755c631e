"""contact data: staff phone, meeting end time, address and leader phone, Reply-To of an outbox message (issue 16)

Revision ID: 0005_contact_data
Revises: 0001
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import pprflow.models.types

revision = "0005_contact_data"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staffmember", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ends_at", pprflow.models.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True))
        batch_op.add_column(sa.Column("leader_phone", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reply_to", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.drop_column("reply_to")
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_column("leader_phone")
        batch_op.drop_column("address")
        batch_op.drop_column("ends_at")
    with op.batch_alter_table("staffmember", schema=None) as batch_op:
        batch_op.drop_column("phone")
