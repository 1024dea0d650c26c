"""The audit store: its queries, over the tables of `integrations.schema` (the outbox: `outbox_records`; the
process list and the copy of each page: `process_records`)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.request import pathname2url

import sqlalchemy as sa
import structlog
from pydantic import BaseModel
from sqlalchemy.engine import Engine

from domain.audit import AuditEvent, StoredAuditEvent, ViewCopy
from domain.errors import Unavailable
from integrations.outbox_records import OutboxRecords, utc
from integrations.process_records import ProcessRecords
from integrations.schema import audit_events, create_engine, deliveries, migrate, processes

GENESIS = "0" * 64

log = structlog.get_logger()


class Position(BaseModel):
    """Where a page of `Store.search` ends: the last event's time and row id."""

    at: datetime
    id: int


def event_hash(prev_hash: str, row: dict[str, Any]) -> str:
    """The chain hash of an event row: SHA-256 of the previous hash and the row."""
    canonical = json.dumps(
        {k: row[k] for k in ("process_id", "seq", "at", "actor", "channel", "action", "step", "status", "details")},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


@dataclass
class ChainsChecked:
    """What `Store.check_chains` went through: how many chains and events, and one sentence per broken chain."""

    chains: int = 0
    events: int = 0
    problems: list[str] = field(default_factory=list)


class ChainCheck:
    """Follows one process's rows in seq order; `problem` names the first that breaks its hash chain."""

    def __init__(self, process_id: str) -> None:
        self.process_id = process_id
        self.problem: str | None = None
        self._expected_seq, self._prev_hash = 1, GENESIS

    def check(self, row: Any) -> StoredAuditEvent:
        """The event of `row`, checked against the one before (from the first break on, no more checks)."""
        event = Store._stored(dict(row))
        if self.problem is None:
            fields = event.model_dump() | {"at": event.at.isoformat(), "details": row["details"]}  # as stored
            if event.seq != self._expected_seq:
                self.problem = f"event {self._expected_seq} is missing (next is {event.seq})"
            elif event.prev_hash != self._prev_hash:
                self.problem = f"event {event.seq} does not follow event {event.seq - 1}"
            elif event_hash(self._prev_hash, fields) != event.hash:
                self.problem = f"event {event.seq} was changed after it was written"
            if self.problem:
                self.problem = f"{self.process_id}: {self.problem}"
        self._expected_seq, self._prev_hash = event.seq + 1, event.hash
        return event


class Store(OutboxRecords, ProcessRecords):
    """The audit store, the webhook deliveries and (`OutboxRecords`) the outbox, over one SQLAlchemy engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def connect(cls, url: str) -> Store:
        """Open the store at `url` and make sure its tables exist."""
        store = cls(create_engine(url))
        store.create_schema()
        return store

    @classmethod
    def open_existing(cls, url: str) -> Store:
        """The store at `url` as it is, for reading: no table made, no migration run.

        A SQLite file is opened read-only, so a command run in the wrong
        directory finds nothing instead of leaving an empty database behind.

        Raises:
            FileNotFoundError: `url` names a SQLite file that does not exist.
        """
        parsed = sa.engine.make_url(url)
        if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
            return cls(create_engine(url))
        path = Path(parsed.database).resolve()
        if not path.is_file():
            raise FileNotFoundError(path)
        read_only = f"file:{pathname2url(str(path))}?mode=ro"

        def connect() -> sqlite3.Connection:
            connection = sqlite3.connect(read_only, uri=True, check_same_thread=False)
            connection.execute("PRAGMA busy_timeout=10000")  # a running stack may be writing
            return connection

        return cls(sa.create_engine("sqlite://", creator=connect))

    def has_tables(self) -> bool:
        """Whether the database holds signoff's tables (False: nothing has run on it yet)."""
        with self.engine.connect() as conn:
            return sa.inspect(conn).has_table(audit_events.name)

    def ping(self) -> None:
        """Raise if the database does not answer."""
        with self.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    def create_schema(self) -> None:
        """Bring the schema to the newest migration (see `migrate`)."""
        migrate(self.engine)

    # ---- audit ---------------------------------------------------------

    def append(self, event: AuditEvent) -> StoredAuditEvent:
        """Keep `event`, chained to its predecessor; a repeat returns the first copy.

        Raises:
            Unavailable: the event before it is not stored yet (retry later).
        """
        try:
            with self.engine.begin() as conn:
                return self._append(conn, event)
        except sa.exc.IntegrityError:
            # Another attempt of the same activity wrote it first: that copy stands.
            first = self.event(event.process.id, event.seq)
            if first is None:
                raise
            return first

    def append_all(self, events: list[AuditEvent], view: ViewCopy | None = None) -> None:
        """Keep `events` (one process's, in order) as `append` does, in one transaction, and the copy of the
        process's page that came with them (`view`, see `_view_values`) on the process list's line.

        Three statements whatever the batch's size (what is stored of the range, the insert, the
        process list's line; a fourth reads the copy a `view` changes), not four per event: the trail's
        writes were a fifth of the worker's CPU.

        Raises:
            Unavailable: the event before the first is not stored yet (retry later).
        """
        if not events:
            return
        process_id, first, last = events[0].process.id, events[0].seq, events[-1].seq
        rows = audit_events.c
        try:
            with self.engine.begin() as conn:
                query = sa.select(rows.seq, rows.hash).where(
                    rows.process_id == process_id, rows.seq >= first - 1, rows.seq <= last
                )
                stored: dict[int, str] = {seq: hash_ for seq, hash_ in conn.execute(query)}
                prev_hash = GENESIS if first == 1 else stored.get(first - 1)
                if prev_hash is None:
                    raise Unavailable(f"audit event {first - 1} of {process_id} not stored yet")
                new: list[dict[str, Any]] = []
                for event in events:
                    if event.seq in stored:  # an earlier attempt kept it: that copy stands
                        prev_hash = stored[event.seq]
                        continue
                    new.append(self._row(event, prev_hash))
                    prev_hash = new[-1]["hash"]
                if new:
                    conn.execute(audit_events.insert(), new)
                    latest = next(e for e in reversed(events) if e.seq == new[-1]["seq"])
                    copy = self._view_values(conn, process_id, view, last, latest.process)
                    self._project(conn, latest.process, new[-1]["at"], started_at=new[0]["at"], also=copy)
        except sa.exc.IntegrityError:
            for event in events:  # another attempt got there first: keep what it did not
                self.append(event)
            with self.engine.begin() as conn:  # and the copy of the view it carried, or later ones will not fit
                copy = self._view_values(conn, process_id, view, last, events[-1].process)
                if copy:
                    conn.execute(processes.update().where(processes.c.id == process_id).values(**copy))

    def _append(self, conn: sa.Connection, event: AuditEvent) -> StoredAuditEvent:
        existing = self._event(conn, event.process.id, event.seq)
        if existing:
            return existing
        prev_hash = GENESIS
        if event.seq > 1:
            prev = self._event(conn, event.process.id, event.seq - 1)
            if prev is None:
                raise Unavailable(f"audit event {event.seq - 1} of {event.process.id} not stored yet")
            prev_hash = prev.hash
        row = self._row(event, prev_hash)
        conn.execute(audit_events.insert().values(**row))
        self._project(conn, event.process, row["at"])
        return self._stored(row)

    @staticmethod
    def _row(event: AuditEvent, prev_hash: str) -> dict[str, Any]:
        """The stored row of `event`, chained to `prev_hash`."""
        at = event.at.astimezone(UTC)
        row: dict[str, Any] = {
            "process_id": event.process.id,
            "seq": event.seq,
            "at": at,
            "actor": event.actor,
            "channel": str(event.channel),
            "action": event.action,
            "step": event.step,
            "status": str(event.process.status),
            "details": json.dumps(event.details, sort_keys=True, default=str),
            "prev_hash": prev_hash,
        }
        row["hash"] = event_hash(prev_hash, {**row, "at": at.isoformat()})
        return row

    def event(self, process_id: str, seq: int) -> StoredAuditEvent | None:
        """One stored event, if there is one."""
        with self.engine.connect() as conn:
            return self._event(conn, process_id, seq)

    def _event(self, conn: sa.Connection, process_id: str, seq: int) -> StoredAuditEvent | None:
        found = (
            conn.execute(
                sa.select(audit_events).where(audit_events.c.process_id == process_id, audit_events.c.seq == seq)
            )
            .mappings()
            .first()
        )
        return self._stored(dict(found)) if found else None

    @staticmethod
    def _stored(row: dict[str, Any]) -> StoredAuditEvent:
        row = {k: v for k, v in row.items() if k != "id"}
        details = row["details"]
        return StoredAuditEvent.model_validate(
            {**row, "at": utc(row["at"]), "details": json.loads(details) if isinstance(details, str) else details}
        )

    def trail(self, process_id: str) -> Iterator[StoredAuditEvent]:
        """Every event of a process, in order, streamed from the database."""
        query = sa.select(audit_events).where(audit_events.c.process_id == process_id).order_by(audit_events.c.seq)
        with self.engine.connect() as conn:
            for row in conn.execution_options(yield_per=500).execute(query).mappings():
                yield self._stored(dict(row))

    def search(
        self,
        process: str | None = None,
        actor: str | None = None,
        action: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        after: Position | None = None,
        limit: int = 100,
    ) -> tuple[list[StoredAuditEvent], Position | None]:
        """Events across processes, oldest first, filtered; a page of `limit` after the position `after`.

        Keyset pagination on (time, row id), never OFFSET: with the indexes of
        migration 0005 every filter, a time window and any one filter with a
        window are a range scan, so a page is as fast at the millionth event as
        at the first. Returns the page and where the next one starts (None on
        the last page).
        """
        rows = audit_events.c
        query = sa.select(audit_events).order_by(rows.at, rows.id).limit(limit + 1)
        for column, value in ((rows.process_id, process), (rows.actor, actor), (rows.action, action)):
            if value:
                query = query.where(column == value)
        if start:
            query = query.where(rows.at >= start.astimezone(UTC))
        if end:
            query = query.where(rows.at < end.astimezone(UTC))
        if after:
            at = sa.literal(after.at.astimezone(UTC), sa.DateTime(timezone=True))
            query = query.where(sa.tuple_(rows.at, rows.id) > sa.tuple_(at, sa.literal(after.id)))
        with self.engine.connect() as conn:
            found = [dict(row) for row in conn.execute(query).mappings()]
        page = found[:limit]
        last = page[-1] if page else None
        next_position = Position(at=utc(last["at"]), id=last["id"]) if last and len(found) > limit else None
        return [self._stored(row) for row in page], next_position

    def verify(self, process_id: str | None = None) -> list[str]:
        """Check every process's hash chain (or one's); one sentence per broken chain.

        A chain breaks where a row was edited (its hash no longer matches),
        deleted (a gap in seq) or reordered (prev_hash is not the hash before).
        """
        return self.check_chains(process_id).problems

    def check_chains(self, process_id: str | None = None) -> ChainsChecked:
        """`verify`, counting the chains and events it went through in the same read."""
        checked = ChainsChecked()
        query = sa.select(audit_events).order_by(audit_events.c.process_id, audit_events.c.seq)
        if process_id:
            query = query.where(audit_events.c.process_id == process_id)
        chain: ChainCheck | None = None
        with self.engine.connect() as conn:
            for row in conn.execution_options(yield_per=1000).execute(query).mappings():
                if chain is None or row["process_id"] != chain.process_id:
                    if chain and chain.problem:
                        checked.problems.append(chain.problem)
                    chain = ChainCheck(row["process_id"])
                    checked.chains += 1
                chain.check(row)
                checked.events += 1
        if chain and chain.problem:
            checked.problems.append(chain.problem)
        return checked

    def verified_trail(self, process_id: str) -> tuple[list[StoredAuditEvent], str | None]:
        """A process's events in order and the first break of its chain (None if it holds), in one read."""
        chain = ChainCheck(process_id)
        query = sa.select(audit_events).where(audit_events.c.process_id == process_id).order_by(audit_events.c.seq)
        with self.engine.connect() as conn:
            events = [chain.check(row) for row in conn.execution_options(yield_per=1000).execute(query).mappings()]
        return events, chain.problem

    # ---- incoming webhooks ------------------------------------------------

    def note(
        self, trail: str, actor: str, channel: str, action: str, details: dict[str, Any], status: str = "refused"
    ) -> StoredAuditEvent:
        """Append an event to `trail`, an audit chain of its own outside every process (``hooks-events``: the
        signed webhook deliveries that were refused; ``schedule-NAME``: a schedule's runs, api/schedules.py),
        hash-chained like a process's trail, with `status` as its state; it makes no line on the process list.

        Raises:
            Unavailable: other writers took the next place in the chain five times over (retry later).
        """
        rows = audit_events.c
        for _ in range(5):
            try:
                with self.engine.begin() as conn:
                    newest = sa.select(rows.seq, rows.hash).where(rows.process_id == trail).order_by(rows.seq.desc())
                    last = conn.execute(newest.limit(1)).first()
                    seq, prev_hash = (last.seq + 1, last.hash) if last else (1, GENESIS)
                    at = datetime.now(UTC)
                    row: dict[str, Any] = {
                        "process_id": trail, "seq": seq, "at": at, "actor": actor[:320], "channel": channel,
                        "action": action, "step": None, "status": status,
                        "details": json.dumps(details, sort_keys=True, default=str), "prev_hash": prev_hash,
                    }  # fmt: skip
                    row["hash"] = event_hash(prev_hash, {**row, "at": at.isoformat()})
                    conn.execute(audit_events.insert().values(**row))
                    return self._stored(row)
            except sa.exc.IntegrityError:  # another writer took that place: take the next
                continue
        raise Unavailable(f"could not add to the audit trail {trail}: too many writers at once")

    def first_delivery(self, source: str, delivery_id: str) -> bool:
        """Record a webhook delivery; False if it was seen before (a redelivery)."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    deliveries.insert().values(source=source, delivery_id=delivery_id, received_at=datetime.now(UTC))
                )
        except sa.exc.IntegrityError:
            return False
        return True
