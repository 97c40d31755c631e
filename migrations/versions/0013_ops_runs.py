"""ops_runs: who asked a flow run for what (issue 20: the acting user is never a Prefect form field)

Revision ID: 0013_ops_runs
Revises: 0012_case_work
Create Date: 2026-11-30 02:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import pprflow.models.types

revision = "0013_ops_runs"
down_revision = "0012_case_work"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runrequest",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("flow_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("created_at", pprflow.models.types.UTCDateTime(), nullable=False),
        sa.Column("flow_run_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("runrequest")
