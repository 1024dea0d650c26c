"""The first schema: the process list, the hash-chained audit trail, the outbox, webhook deliveries.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "processes",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False, index=True),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("owner", sa.String(320), nullable=False, index=True),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("process_id", sa.String(200), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("actor", sa.String(320), nullable=False, index=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("action", sa.String(60), nullable=False, index=True),
        sa.Column("step", sa.String(100)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("process_id", "seq", name="uq_audit_process_seq"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(400), nullable=False, unique=True),
        sa.Column("process_id", sa.String(200), nullable=False, index=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("to", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("meta", sa.Text, nullable=False),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("source", sa.String(20), primary_key=True),
        sa.Column("delivery_id", sa.String(200), primary_key=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in ("webhook_deliveries", "outbox", "audit_events", "processes"):
        op.drop_table(table)
