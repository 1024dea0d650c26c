"""The process list says which processes have overdue items, and how many, without reading each page's copy.

`earliest_open_due` is the earliest due date of the process's open items
(indexed: the list's ``overdue`` filter is ``earliest_open_due < today``),
`open_due` all of them, sorted, comma-separated (the count of those before
today). Both are written with the copy of the process's page they come from
(migration 0007), so they are as late as that copy; both are empty for a
process that has ended or has no open item. Running processes' copies are
read once here, so the count and the filter are right before their next
batch (the next deadline's cap at an open gate's decision waits for it).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import json
from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("processes") as batch:
        batch.add_column(sa.Column("earliest_open_due", sa.Date))
        batch.add_column(sa.Column("open_due", sa.Text))
    op.create_index("ix_processes_earliest_open_due", "processes", ["earliest_open_due"])
    _fill_in()


def _fill_in() -> None:
    """The columns of every running process, from its copy (as it is here: later code may read copies otherwise)."""
    conn = op.get_bind()
    processes = sa.table(
        "processes", sa.column("id"), sa.column("status"), sa.column("view_fields"),
        sa.column("earliest_open_due", sa.Date), sa.column("open_due"),
    )  # fmt: skip
    running = sa.select(processes.c.id, processes.c.view_fields).where(
        processes.c.status.in_(("running", "waiting")), processes.c.view_fields.is_not(None)
    )
    for process_id, fields in conn.execute(running).all():
        try:
            items = json.loads(fields).get("items") or []
            due = sorted(str(item["due"]) for item in items if item.get("status", "open") == "open")
            earliest = date.fromisoformat(due[0]) if due else None
        except (ValueError, TypeError, KeyError, AttributeError):
            continue  # a copy that does not read: its next batch writes the columns
        if earliest is not None:
            values = {"earliest_open_due": earliest, "open_due": ",".join(due)}
            conn.execute(processes.update().where(processes.c.id == process_id).values(**values))


def downgrade() -> None:
    op.drop_index("ix_processes_earliest_open_due", "processes")
    with op.batch_alter_table("processes") as batch:
        batch.drop_column("open_due")
        batch.drop_column("earliest_open_due")
