"""The process list shows how far each process is and what is due next.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("processes") as batch:
        batch.add_column(sa.Column("progress", sa.String(100)))
        batch.add_column(sa.Column("next_deadline", sa.DateTime(timezone=True)))
    op.create_index("ix_processes_next_deadline", "processes", ["next_deadline"])


def downgrade() -> None:
    op.drop_index("ix_processes_next_deadline", "processes")
    with op.batch_alter_table("processes") as batch:
        batch.drop_column("next_deadline")
        batch.drop_column("progress")
