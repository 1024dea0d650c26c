"""The audit trail's models: what each event says, as written and as stored, and its CSV form."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import Field

from domain.enums import Channel, ProcessStatus
from domain.models import Model


class ProcessSummary(Model):
    """What the process list shows; carried by each audit event."""

    id: str
    kind: str
    title: str
    owner: str
    status: ProcessStatus
    progress: str | None = None
    """How far it is, in a few words: "3 of 12 items done", "1 of 2 approvals"."""
    next_deadline: datetime | None = None
    """The next moment something is due: an open item, a gate's expiry."""


class AuditEvent(Model):
    """One thing that happened in a process, keyed by (process, seq)."""

    process: ProcessSummary
    seq: int
    at: datetime
    actor: str
    channel: Channel = Channel.SYSTEM
    action: str
    step: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class AuditBatch(Model):
    """Events of one process, in order, written in one transaction."""

    events: list[AuditEvent]


class StoredAuditEvent(Model):
    """An audit event as the store keeps it, with its place in the hash chain."""

    process_id: str
    seq: int
    at: datetime
    actor: str
    channel: str
    action: str
    step: str | None
    status: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


AUDIT_CSV_COLUMNS = [
    "process_id", "seq", "at", "actor", "channel", "action", "step", "status", "details", "prev_hash", "hash",
]  # fmt: skip
"""The columns of an audit trail as CSV, from the API and from the CLI alike."""


def audit_csv_row(event: dict[str, Any]) -> list[Any]:
    """A stored event in its JSON form as a row of `AUDIT_CSV_COLUMNS` (details as sorted JSON)."""
    return [json.dumps(event[c], sort_keys=True) if c == "details" else event[c] for c in AUDIT_CSV_COLUMNS]
