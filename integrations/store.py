"""The audit store and the outbox: their queries, over the tables of `integrations.schema`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.engine import Engine

from domain.audit import AuditEvent, ProcessSummary, StoredAuditEvent
from domain.errors import Unavailable
from integrations.schema import audit_events, create_engine, deliveries, migrate, outbox, processes

GENESIS = "0" * 64


class Position(BaseModel):
    """Where a page of `Store.search` ends: the last event's time and row id."""

    at: datetime
    id: int


class OutboxEntry(BaseModel):
    """One message the outbox recorded (`GET /api/outbox`)."""

    id: int
    key: str
    process: str
    channel: str
    to: list[str]
    subject: str
    body: str
    at: datetime
    meta: dict[str, Any] = {}


def event_hash(prev_hash: str, row: dict[str, Any]) -> str:
    """The chain hash of an event row: SHA-256 of the previous hash and the row."""
    canonical = json.dumps(
        {k: row[k] for k in ("process_id", "seq", "at", "actor", "channel", "action", "step", "status", "details")},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def _utc(value: datetime) -> datetime:
    """A stored time in UTC (SQLite hands them back naive, PostgreSQL in its zone)."""
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def _process_row(row: Any) -> dict[str, Any]:
    """A row of the process list with its times in UTC."""
    deadline = row.get("next_deadline")
    return {
        **row,
        "started_at": _utc(row["started_at"]),
        "updated_at": _utc(row["updated_at"]),
        "next_deadline": _utc(deadline) if deadline else None,
    }


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


class Store:
    """The audit store and outbox over one SQLAlchemy engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def connect(cls, url: str) -> Store:
        """Open the store at `url` and make sure its tables exist."""
        store = cls(create_engine(url))
        store.create_schema()
        return store

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

    def append_all(self, events: list[AuditEvent]) -> None:
        """Keep `events` (one process's, in order) as `append` does, in one transaction.

        Raises:
            Unavailable: the event before the first is not stored yet (retry later).
        """
        try:
            with self.engine.begin() as conn:
                for event in events:
                    self._append(conn, event)
        except sa.exc.IntegrityError:
            for event in events:  # another attempt got there first: keep what it did not
                self.append(event)

    def _append(self, conn: sa.Connection, event: AuditEvent) -> StoredAuditEvent:
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
        }
        existing = self._event(conn, event.process.id, event.seq)
        if existing:
            return existing
        prev_hash = GENESIS
        if event.seq > 1:
            prev = self._event(conn, event.process.id, event.seq - 1)
            if prev is None:
                raise Unavailable(f"audit event {event.seq - 1} of {event.process.id} not stored yet")
            prev_hash = prev.hash
        row["prev_hash"] = prev_hash
        row["hash"] = event_hash(prev_hash, {**row, "at": at.isoformat()})
        conn.execute(audit_events.insert().values(**row))
        self._project(conn, event.process, at)
        return self._stored(row)

    def _project(self, conn: sa.Connection, summary: ProcessSummary, at: datetime) -> None:
        values = summary.model_dump(mode="json") | {"updated_at": at, "next_deadline": summary.next_deadline}
        updated = conn.execute(processes.update().where(processes.c.id == summary.id).values(**values)).rowcount
        if not updated:
            conn.execute(processes.insert().values(**values, started_at=at))

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
            {**row, "at": _utc(row["at"]), "details": json.loads(details) if isinstance(details, str) else details}
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
        next_position = Position(at=_utc(last["at"]), id=last["id"]) if last and len(found) > limit else None
        return [self._stored(row) for row in page], next_position

    def verify(self, process_id: str | None = None) -> list[str]:
        """Check every process's hash chain (or one's); one sentence per broken chain.

        A chain breaks where a row was edited (its hash no longer matches),
        deleted (a gap in seq) or reordered (prev_hash is not the hash before).
        """
        problems: list[str] = []
        query = sa.select(audit_events).order_by(audit_events.c.process_id, audit_events.c.seq)
        if process_id:
            query = query.where(audit_events.c.process_id == process_id)
        chain: ChainCheck | None = None
        with self.engine.connect() as conn:
            for row in conn.execution_options(yield_per=1000).execute(query).mappings():
                if chain is None or row["process_id"] != chain.process_id:
                    if chain and chain.problem:
                        problems.append(chain.problem)
                    chain = ChainCheck(row["process_id"])
                chain.check(row)
        if chain and chain.problem:
            problems.append(chain.problem)
        return problems

    def verified_trail(self, process_id: str) -> tuple[list[StoredAuditEvent], str | None]:
        """A process's events in order and the first break of its chain (None if it holds), in one read."""
        chain = ChainCheck(process_id)
        query = sa.select(audit_events).where(audit_events.c.process_id == process_id).order_by(audit_events.c.seq)
        with self.engine.connect() as conn:
            events = [chain.check(row) for row in conn.execution_options(yield_per=1000).execute(query).mappings()]
        return events, chain.problem

    # ---- the process list -------------------------------------------

    def processes(
        self, kind: str | None = None, status: str | None = None, owner: str | None = None
    ) -> list[dict[str, Any]]:
        """Processes, newest first, filtered by kind, status and owner."""
        query = sa.select(processes).order_by(processes.c.started_at.desc())
        for column, value in (("kind", kind), ("status", status), ("owner", owner)):
            if value:
                query = query.where(processes.c[column] == value)
        with self.engine.connect() as conn:
            return [_process_row(row) for row in conn.execute(query).mappings()]

    def process(self, process_id: str) -> dict[str, Any] | None:
        """One process's row of the list, if it ever started."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(processes).where(processes.c.id == process_id)).mappings().first()
        return _process_row(row) if row else None

    # ---- incoming webhooks ------------------------------------------------

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

    # ---- the outbox -------------------------------------------------------

    def record(
        self,
        key: str,
        process_id: str,
        channel: str,
        to: list[str],
        subject: str,
        body: str,
        meta: dict[str, Any] | None = None,
    ) -> tuple[OutboxEntry, bool]:
        """Record an outgoing message once per `key`; says whether it is new."""
        values = {
            "key": key,
            "process_id": process_id,
            "channel": channel,
            "to": json.dumps(to),
            "subject": subject,
            "body": body,
            "at": datetime.now(UTC),
            "meta": json.dumps(meta or {}),
        }
        try:
            with self.engine.begin() as conn:
                new_id = conn.execute(outbox.insert().values(**values)).inserted_primary_key[0]  # type: ignore[index]
            return self._entry({**values, "id": new_id}), True
        except sa.exc.IntegrityError:
            existing = self.recorded(key)
            assert existing is not None
            return existing, False

    def update_meta(self, key: str, meta: dict[str, Any]) -> None:
        """Replace the meta of the outbox entry `key`."""
        with self.engine.begin() as conn:
            conn.execute(outbox.update().where(outbox.c.key == key).values(meta=json.dumps(meta)))

    def rewrite(self, key: str, body: str) -> bool:
        """Replace the body of the outbox entry `key` (a chat message edited in place); False if there is none."""
        with self.engine.begin() as conn:
            result = conn.execute(outbox.update().where(outbox.c.key == key).values(body=body))
        return bool(result.rowcount)

    def recorded(self, key: str) -> OutboxEntry | None:
        """The outbox entry with `key`, if any."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(outbox).where(outbox.c.key == key)).mappings().first()
        return self._entry(dict(row)) if row else None

    def outbox(self, process_id: str | None = None, limit: int = 1000) -> list[OutboxEntry]:
        """What the outbox recorded, oldest first (the newest `limit` entries)."""
        query = sa.select(outbox).order_by(outbox.c.id.desc()).limit(limit)
        if process_id:
            query = query.where(outbox.c.process_id == process_id)
        with self.engine.connect() as conn:
            rows = [self._entry(dict(r)) for r in conn.execute(query).mappings()]
        return rows[::-1]

    def outbox_of_channel(self, channel: str, keys: set[str]) -> list[OutboxEntry]:
        """Outbox entries of `channel` whose meta names one of the issue `keys`."""
        query = sa.select(outbox).where(outbox.c.channel == channel).order_by(outbox.c.id)
        with self.engine.connect() as conn:
            rows = [self._entry(dict(r)) for r in conn.execute(query).mappings()]
        return [entry for entry in rows if entry.meta.get("issue_key") in keys]

    @staticmethod
    def _entry(row: dict[str, Any]) -> OutboxEntry:
        return OutboxEntry(
            id=row["id"],
            key=row["key"],
            process=row["process_id"],
            channel=row["channel"],
            to=json.loads(row["to"]),
            subject=row["subject"],
            body=row["body"],
            at=_utc(row["at"]),
            meta=json.loads(row["meta"] or "{}"),
        )

    def replace_meta_if(self, key: str, expected: dict[str, Any], meta: dict[str, Any]) -> bool:
        """Replace the meta of the outbox entry `key` only while it is still `expected`; says whether it did.

        One conditional UPDATE, so of two senders racing to take over an
        entry (a failed email being retried), exactly one wins.
        """
        condition = sa.and_(outbox.c.key == key, outbox.c.meta == json.dumps(expected))
        with self.engine.begin() as conn:
            result = conn.execute(outbox.update().where(condition).values(meta=json.dumps(meta)))
        return bool(result.rowcount)
