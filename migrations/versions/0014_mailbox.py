"""mailbox: a parent is recognised whatever the spelling, a sub-address included (ESC-1)

`caseparty.mailbox` is the address without its sub-address (mor+skole@hjem.dk -> mor@hjem.dk), kept by an
ORM event on every insert and update (models/tables.py) and indexed: tasks/outbox.py looks parents up on
it as well as on the stored address. Existing rows are filled here.

Revision ID: 0014_mailbox
Revises: 0013_ops_runs
Create Date: 2026-11-30 03:10:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_mailbox"
down_revision = "0013_ops_runs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from pprflow.models.address import mailbox_key

    with op.batch_alter_table("caseparty") as batch:
        batch.add_column(sa.Column("mailbox", sa.String(length=254), nullable=True))
        batch.create_index("ix_caseparty_mailbox", ["mailbox"])
    conn = op.get_bind()
    parties = sa.table("caseparty", sa.column("id", sa.Integer), sa.column("email", sa.String),
                       sa.column("mailbox", sa.String))
    rows = conn.execute(sa.select(parties.c.id, parties.c.email)).all()
    for party_id, email in rows:
        conn.execute(sa.update(parties).where(parties.c.id == party_id).values(mailbox=mailbox_key(email) or None))


def downgrade() -> None:
    with op.batch_alter_table("caseparty") as batch:
        batch.drop_index("ix_caseparty_mailbox")
        batch.drop_column("mailbox")
