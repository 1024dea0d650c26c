"""GET /api/audit pages in time order: (column, at, id) indexes replace 0004's (column, id).

A page is ``WHERE actor = ? AND (at, id) > (?, ?) [AND at < ?] ORDER BY at, id
LIMIT n``. With the time in the index a window (``from``/``to``) is a range
scan on its own or after any one filter; ordered by id, SQLite walked the
whole id order to find a window far back (77× slower at a million events,
docs/benchmarks.md). The single-column indexes on at, actor and action are
prefixes of the new ones and go.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_NEW = {
    "ix_audit_events_at_id": ["at", "id"],
    "ix_audit_events_process_at": ["process_id", "at", "id"],
    "ix_audit_events_actor_at": ["actor", "at", "id"],
    "ix_audit_events_action_at": ["action", "at", "id"],
}
_OLD = {
    "ix_audit_events_at": ["at"],
    "ix_audit_events_actor": ["actor"],
    "ix_audit_events_action": ["action"],
    "ix_audit_events_actor_id": ["actor", "id"],
    "ix_audit_events_action_id": ["action", "id"],
    "ix_audit_events_process_id_id": ["process_id", "id"],
}


def upgrade() -> None:
    for name, columns in _NEW.items():
        op.create_index(name, "audit_events", columns)
    for name in _OLD:
        op.drop_index(name, "audit_events")


def downgrade() -> None:
    for name, columns in _OLD.items():
        op.create_index(name, "audit_events", columns)
    for name in _NEW:
        op.drop_index(name, "audit_events")
