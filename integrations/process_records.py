"""The process list's table: each process's line, kept from its latest audit event, and the copy of its page
kept from the view its audit batches carry (`Store.process_view`, for when the live process cannot answer;
`Store.running_views_naming`, for someone's work), with what the line takes from that copy: the open items'
due dates (how many are overdue) and a next deadline no later than an open gate's decision is due."""

from __future__ import annotations

import json
from bisect import bisect_left
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
import structlog
from pydantic import ValidationError
from sqlalchemy.engine import Engine

from domain.audit import ProcessSummary, ViewCopy
from domain.enums import GateStatus, ProcessStatus
from domain.rules import decision_due, open_items
from domain.views import ProcessView
from integrations.outbox_records import utc
from integrations.schema import audit_events, processes

log = structlog.get_logger()

LIST_COLUMNS = [column for column in processes.c if not column.name.startswith("view_")]
"""The process list's columns: its rows leave out the copy of each page (`Store.process_view` reads that)."""


RUNNING = (ProcessStatus.RUNNING.value, ProcessStatus.WAITING.value)


def _process_row(row: Any, today: date | None = None) -> dict[str, Any]:
    """A row of the process list with its times in UTC and how many of its items are overdue on `today`
    (default: today in UTC): of the open items' due dates its line keeps, those before it."""
    deadline = row.get("next_deadline")
    line = {name: value for name, value in row.items() if name not in ("open_due", "earliest_open_due")}
    due = row.get("open_due") or ""
    today = today or datetime.now(UTC).date()
    return {
        **line,
        "started_at": utc(row["started_at"]),
        "updated_at": utc(row["updated_at"]),
        "next_deadline": utc(deadline) if deadline else None,
        "overdue": bisect_left(due.split(","), today.isoformat()) if due and row["status"] in RUNNING else 0,
    }


def _line_of(fields: dict[str, Any], summary: ProcessSummary) -> dict[str, Any]:
    """What the line of the list keeps from a copy of the view (`fields`) beside what `summary` says: the open
    items' due dates (the earliest, for the overdue filter, and all, sorted, to count), and the next deadline no
    later than an open gate's decision is due (`domain.rules.decision_due`): not the approval link's expiry, a
    week after launch day. Nothing of a process that has ended, or of a copy that does not read as a view."""
    nothing: dict[str, Any] = {"earliest_open_due": None, "open_due": None}
    if summary.status.finished:
        return nothing
    try:
        view = ProcessView.model_validate({name: fields[name] for name in fields if name in ProcessView.model_fields})
    except ValidationError:
        return nothing
    due = sorted(item.due for item in open_items(view))
    decisions = [decision_due(view, gate) for gate in view.gates if gate.status == GateStatus.OPEN]
    deadline = min((d for d in (summary.next_deadline, *decisions) if d is not None), default=None)
    return {
        "earliest_open_due": due[0] if due else None,
        "open_due": ",".join(day.isoformat() for day in due) or None,
        "next_deadline": deadline,
    }


def _copy_of(row: Any) -> ProcessView:
    """A process's kept copy of its page, or its line of the list for one that kept none (or none that reads)."""
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


class ProcessRecords:
    """The process list's queries; `integrations.store.Store` has them over its engine, and writes the lines in
    the transaction of the events they come from."""

    engine: Engine

    def count_processes(self) -> int:
        """How many processes the list holds (every process that ever recorded an event)."""
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(processes)).scalar_one())

    def processes(
        self,
        kind: str | None = None,
        status: str | None = None,
        owner: str | None = None,
        overdue: bool = False,
        today: date | None = None,
    ) -> list[dict[str, Any]]:
        """Processes, newest first, filtered by kind, status and owner, and (`overdue`) to the running ones with
        an item overdue on `today` (default: today in UTC); each says how many of its items are (``overdue``).

        The line keeps the open items' due dates from the latest copy of the process's page (migration 0008),
        so it is as late as that copy: an item done a moment ago counts until its batch is written.
        """
        today = today or datetime.now(UTC).date()
        query = sa.select(*LIST_COLUMNS).order_by(processes.c.started_at.desc())
        for column, value in (("kind", kind), ("status", status), ("owner", owner)):
            if value:
                query = query.where(processes.c[column] == value)
        if overdue:
            query = query.where(processes.c.earliest_open_due < today, processes.c.status.in_(RUNNING))
        with self.engine.connect() as conn:
            return [_process_row(row, today) for row in conn.execute(query).mappings()]

    def process(self, process_id: str) -> dict[str, Any] | None:
        """One process's row of the list, if it ever started."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(*LIST_COLUMNS).where(processes.c.id == process_id)).mappings().first()
        return _process_row(row) if row else None

    def ever_started(self, process_id: str) -> bool:
        """Whether a process ever ran under `process_id`: it has a line on the list or an event in the audit
        trail, however long ago it ended. Temporal forgets a closed run after its namespace's retention; the
        store never does, so this is what keeps an id from being used for a second run (`Processes.start`).
        Two lookups by key."""
        with self.engine.connect() as conn:
            listed = conn.execute(sa.select(processes.c.id).where(processes.c.id == process_id).limit(1)).first()
            if listed is not None:
                return True
            trail = sa.select(audit_events.c.seq).where(audit_events.c.process_id == process_id).limit(1)
            return conn.execute(trail).first() is not None

    def process_view(self, process_id: str) -> ProcessView | None:
        """The store's copy of a process's page (not `live`, `as_of` when it was sent), if the process ever
        started; for one that sent no copy (started before copies were kept), its line of the list alone.

        A field the view no longer has (the copy came from an older version) is left out; a copy that
        does not read as a view at all gives the line of the list too.
        """
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(processes).where(processes.c.id == process_id)).mappings().first()
        return None if row is None else _copy_of(row)

    def process_views(
        self, kind: str | None = None, running: bool = False, active_since: datetime | None = None
    ) -> list[ProcessView]:
        """The store's copies of every process's page (of one `kind`; only those not finished when `running`;
        with `active_since`, the running ones and those that finished at or after it), oldest first: what the
        calendar reads, in one query and with no worker needed."""
        unfinished = [s.value for s in ProcessStatus if not s.finished]
        query = sa.select(processes).order_by(processes.c.started_at, processes.c.id)
        if kind:
            query = query.where(processes.c.kind == kind)
        if running:
            query = query.where(processes.c.status.in_(unfinished))
        if active_since is not None:
            query = query.where(sa.or_(processes.c.status.in_(unfinished), processes.c.updated_at >= active_since))
        with self.engine.connect() as conn:
            return [_copy_of(row) for row in conn.execute(query).mappings()]

    def running_views_naming(self, person: str) -> list[ProcessView]:
        """The store's copies of the pages of the running processes that name `person` (an email, lower-case),
        oldest first: one query, no process asked, so it answers fast, and when no worker does.

        A copy is as late as the batch it came with (an item done a moment ago may still show open), and a
        process that sent no copy (one started before copies were kept) is not among them.
        """
        named = json.dumps(person)  # as the copy spells it, quotes and all: a whole value, not part of one
        query = (
            sa.select(processes)
            .where(processes.c.status.in_(RUNNING), processes.c.view_fields.contains(named, autoescape=True))
            .order_by(processes.c.started_at, processes.c.id)
        )
        with self.engine.connect() as conn:
            return [_copy_of(row) for row in conn.execute(query).mappings()]

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
    def _view_values(
        conn: sa.Connection, process_id: str, view: ViewCopy | None, seq: int, summary: ProcessSummary
    ) -> dict[str, Any]:
        """The columns that keep `view`, the copy sent with the batch ending at event `seq`, and what the line
        takes from it beside `summary`, the batch's last (`_line_of`): nothing without one.

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
        copy = {"view_fields": json.dumps(fields, default=str), "view_seq": seq, "view_at": view.at.astimezone(UTC)}
        return copy | _line_of(fields, summary)
