"""mail: tie every notification message to its notification (ESC-2, PRIV-2)

Outbox rows of a notification without a case (the abuse notification, its LAW-2 reminders and
its escalation when the transport keeps failing) had case_id NULL and nothing else to purge them
by; `notification_id` ties them to their report, so retention deletes them with it.

Revision ID: 0009_mail
Revises: 0008_ops
Create Date: 2026-11-29 22:10:00
"""
from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = '0009_mail'
down_revision = '0008_ops'
branch_labels = None
depends_on = None

_SERVES = re.compile(r"\|notification:(\d+):")


def upgrade() -> None:
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notification_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outboxmessage_notification_id'), ['notification_id'], unique=False)
        batch_op.create_foreign_key('fk_outboxmessage_notification_id', 'notification', ['notification_id'], ['id'])
    # The rows queued before: their idempotency key names the notification they serve.
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, idempotency_key FROM outboxmessage WHERE idempotency_key LIKE '%|notification:%'")).all()
    known = {row[0] for row in bind.execute(sa.text("SELECT id FROM notification")).all()}
    for message_id, key in rows:
        found = _SERVES.search(key)
        if found and int(found.group(1)) in known:
            bind.execute(sa.text("UPDATE outboxmessage SET notification_id = :n WHERE id = :i"),
                         {"n": int(found.group(1)), "i": message_id})


def downgrade() -> None:
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.drop_constraint('fk_outboxmessage_notification_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outboxmessage_notification_id'))
        batch_op.drop_column('notification_id')
