"""The process list's table: each process's line, kept from its latest audit event, and the copy of its page
kept from the view its audit batches carry (`Store.process_view`, for when the live process cannot answer)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import structlog
from pydantic import ValidationError
from sqlalchemy.engine import Engine

from domain.audit import ProcessSummary, ViewCopy
from domain.models import ProcessView
from integrations.outbox_records import utc
from integrations.schema import processes

log = structlog.get_logger()

LIST_COLUMNS = [column for column in processes.c if not column.name.startswith("view_")]
"""The process list's columns: its rows leave out the copy of each page (`Store.process_view` reads that)."""


def _process_row(row: Any) -> dict[str, Any]:
    """A row of the process list with its times in UTC."""
    deadline = row.get("next_deadline")
    return {
        **row,
        "started_at": utc(row["started_at"]),
        "updated_at": utc(row["updated_at"]),
        "next_deadline": utc(deadline) if deadline else None,
    }


class ProcessRecords:
    """The process list's queries; `integrations.store.Store` has them over its engine, and writes the lines in
    the transaction of the events they come from."""

    engine: Engine

    def count_processes(self) -> int:
        """How many processes the list holds (every process that ever recorded an event)."""
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(processes)).scalar_one())

    def processes(
        self, kind: str | None = None, status: str | None = None, owner: str | None = None
    ) -> list[dict[str, Any]]:
        """Processes, newest first, filtered by kind, status and owner."""
        query = sa.select(*LIST_COLUMNS).order_by(processes.c.started_at.desc())
        for column, value in (("kind", kind), ("status", status), ("owner", owner)):
            if value:
                query = query.where(processes.c[column] == value)
        with self.engine.connect() as conn:
            return [_process_row(row) for row in conn.execute(query).mappings()]

    def process(self, process_id: str) -> dict[str, Any] | None:
        """One process's row of the list, if it ever started."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(*LIST_COLUMNS).where(processes.c.id == process_id)).mappings().first()
        return _process_row(row) if row else None

    def process_view(self, process_id: str) -> ProcessView | None:
        """The store's copy of a process's page (not `live`, `as_of` when it was sent), if the process ever
        started; for one that sent no copy (started before copies were kept), its line of the list alone.

        A field the view no longer has (the copy came from an older version) is left out; a copy that
        does not read as a view at all gives the line of the list too.
        """
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(processes).where(processes.c.id == process_id)).mappings().first()
        if row is None:
            return None
        if row["view_fields"] is not None:
            fields = json.loads(row["view_fields"])
            known = {name: value for name, value in fields.items() if name in ProcessView.model_fields}
            try:
                return ProcessView.model_validate(known | {"live": False, "as_of": utc(row["view_at"])})
            except ValidationError:
                pass  # what no longer reads as a view: the line of the list, below
        line = _process_row(row)
        return ProcessView(
            id=line["id"], kind=line["kind"], title=line["title"], status=line["status"], owner=line["owner"],
            params={}, steps=[], live=False, as_of=line["updated_at"],
        )  # fmt: skip

    def _project(
        self,
        conn: sa.Connection,
        summary: ProcessSummary,
        at: datetime,
        started_at: datetime | None = None,
        also: dict[str, Any] | None = None,
    ) -> None:
        values = summary.model_dump(mode="json") | {"updated_at": at, "next_deadline": summary.next_deadline}
        values |= also or {}
        updated = conn.execute(processes.update().where(processes.c.id == summary.id).values(**values)).rowcount
        if not updated:
            conn.execute(processes.insert().values(**values, started_at=started_at or at))

    @staticmethod
    def _view_values(conn: sa.Connection, process_id: str, view: ViewCopy | None, seq: int) -> dict[str, Any]:
        """The columns that keep `view`, the copy sent with the batch ending at event `seq`: nothing without one.

        A copy of the whole view replaces what is kept; one of the fields that changed is laid over the
        copy it changes (`since`), and only over that one: batches reach here in order, so it always is,
        but a copy that does not fit is left out rather than mixed into another, and the kept one stays
        as of its own time.
        """
        if view is None:
            return {}
        fields: dict[str, Any] | None = view.fields
        if view.since:
            query = sa.select(processes.c.view_fields, processes.c.view_seq).where(processes.c.id == process_id)
            kept = conn.execute(query).first()
            if kept is None or kept.view_seq != view.since or kept.view_fields is None:
                log.warning(
                    "process view copy does not fit the one kept; left out", process_id=process_id,
                    since=view.since, kept=None if kept is None else kept.view_seq,
                )  # fmt: skip
                return {}
            fields = view.laid_over(json.loads(kept.view_fields))
            if fields is None:
                return {}
        return {"view_fields": json.dumps(fields, default=str), "view_seq": seq, "view_at": view.at.astimezone(UTC)}
