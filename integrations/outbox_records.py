"""The outbox's table: what the embedded tracker, mailer and chat record instead of sending."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.engine import Engine

from integrations.schema import outbox


def utc(value: datetime) -> datetime:
    """A stored time in UTC (SQLite hands them back naive, PostgreSQL in its zone)."""
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


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


class OutboxRecords:
    """The outbox's queries; `integrations.store.Store` has them over its engine."""

    engine: Engine

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

    def approval_links(self, process_ids: list[str], addressee: str) -> dict[tuple[str, str, int, str], str]:
        """The approval links the approval requests of these processes gave `addressee`, by process, gate, round
        and whom they decide for (``""``: themselves), the latest of each; in one query.

        Read from the meta the mailers keep with an approval request (`integrations.ports.ApprovalAsk`), never
        from a body: any request counts, the first of a round, a reminder, or one after an edit or a hand-over.
        """
        if not process_ids:
            return {}
        query = (
            sa.select(outbox.c.process_id, outbox.c.meta)
            .where(
                outbox.c.process_id.in_(process_ids),
                outbox.c.channel == "email",
                outbox.c.to == json.dumps([addressee]),
            )
            .order_by(outbox.c.id)
        )
        links: dict[tuple[str, str, int, str], str] = {}
        with self.engine.connect() as conn:
            for process_id, text in conn.execute(query):
                meta = json.loads(text or "{}")
                if meta.get("approval_url") and meta.get("approval_to") == addressee:
                    where = (process_id, meta["approval_gate"], int(meta["approval_round"]), meta["approval_for"])
                    links[where] = meta["approval_url"]  # in order: the latest wins
        return links

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
            at=utc(row["at"]),
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
