"""ESC-1/ESC-2: the notification (underretning) is its own intake

A notification no longer needs a case; it carries the reporter, the institution, who the child is
(the name only until acknowledged, PRIV-2), what was observed and when, and the report's fingerprint.

Revision ID: 0002_esc1
Revises: 0005_contact_data
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0002_esc1'
down_revision = '0005_contact_data'
branch_labels = None
depends_on = None

_STRING_COLUMNS = (
    ('reporter_name', 200), ('reporter_role', 200), ('institution_name', 200), ('child_name', 200),
    ('child_pseudonym', 200), ('child_group', 200),
)


def upgrade() -> None:
    # ESC-1: "is this a parent?" is an indexed lookup on the one spelling of an address (bare, lower
    # case). Fold the addresses stored before the address type, unless that would merge two parties.
    op.execute(
        "UPDATE caseparty SET email = lower(trim(email)) WHERE email <> lower(trim(email)) AND NOT EXISTS "
        "(SELECT 1 FROM caseparty AS other WHERE other.case_id = caseparty.case_id "
        "AND other.email = lower(trim(caseparty.email)))"
    )
    with op.batch_alter_table('caseparty', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_caseparty_email'), ['email'], unique=False)
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.alter_column('case_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('report_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        for name, length in _STRING_COLUMNS:
            batch_op.add_column(sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=True))
        batch_op.add_column(sa.Column('child_birth_year', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('observation', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('observed_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('observed_time', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_notification_report_key'), ['report_key'])


def downgrade() -> None:
    with op.batch_alter_table('caseparty', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_caseparty_email'))
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_notification_report_key'), type_='unique')
        for name in ('observed_time', 'observed_on', 'observation', 'child_birth_year'):
            batch_op.drop_column(name)
        for name, _ in reversed(_STRING_COLUMNS):
            batch_op.drop_column(name)
        batch_op.drop_column('report_key')
        batch_op.alter_column('case_id', existing_type=sa.Integer(), nullable=False)
