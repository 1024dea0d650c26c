"""Indexes that let GET /api/audit page by process, actor or kind without walking the whole trail.

A page is ``WHERE actor = ? AND id > ? ORDER BY id LIMIT n``: an index on
(actor, id) answers it by a range scan. The single-column indexes of 0001
made both databases walk the id order and filter instead (see docs/benchmarks.md).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_events_actor_id", "audit_events", ["actor", "id"])
    op.create_index("ix_audit_events_action_id", "audit_events", ["action", "id"])
    op.create_index("ix_audit_events_process_id_id", "audit_events", ["process_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_process_id_id", "audit_events")
    op.drop_index("ix_audit_events_action_id", "audit_events")
    op.drop_index("ix_audit_events_actor_id", "audit_events")
