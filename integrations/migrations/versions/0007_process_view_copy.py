"""A copy of each process's page beside its line of the list, for when the process cannot answer.

`view_fields` is `domain.views.ProcessView` as JSON (less what is worked out
on reading), `view_seq` the last event of the batch it came with, `view_at`
when the process sent it. All three empty for a process that has sent none
(one started before this, or one that wrote its trail event by event).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("processes") as batch:
        batch.add_column(sa.Column("view_fields", sa.Text))
        batch.add_column(sa.Column("view_seq", sa.Integer))
        batch.add_column(sa.Column("view_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("processes") as batch:
        batch.drop_column("view_at")
        batch.drop_column("view_seq")
        batch.drop_column("view_fields")
