"""The audit trail's models: what each event says, as written and as stored, and its CSV form."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, TypeGuard

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


class ViewCopy(Model):
    """The process as its page shows it (`domain.views.ProcessView`'s fields, as JSON) when a batch was sent.

    The store keeps it beside the process's line of the list, so a page can be
    answered when the process itself cannot (no worker polling, Temporal down:
    `api.service.Processes.view`). Only what changed since the copy the store
    already holds travels (`since`), not the whole view with every batch: a
    launch's view is about 5 kB, a message's parameters alone up to 300 kB
    (10,000 addresses), while most batches (a reminder, a reconciliation)
    change one number, and every batch's input stays in the process's
    history. Over the saved launch (46 batches) the copies come to 15 kB, a
    tenth more history; the whole view each time would be 215 kB.

    It is the view as the batch is sent, which can be just before a change
    that records no event of its own (the next step starting after the last
    message of the one before): that reaches the store with the next batch.
    Taking the copy later in the workflow task would move the batch's
    activity behind the commands that follow it, and replay of the processes
    already running would refuse that.
    """

    at: datetime
    since: int = 0
    """The last event of the batch whose copy this changes; 0 when `fields` are the whole view."""
    fields: dict[str, Any]
    """The fields that changed, each whole (every field, when `since` is 0)."""
    entries: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)
    """Lists of keyed entries (items, steps, gates) where only some entries changed or came: those entries
    alone, each in place of the one with its key or, new, at the end. One issue filed changes one of a
    launch's twelve items, not the 3 kB list."""

    @classmethod
    def between(cls, sent: dict[str, Any], view: dict[str, Any], at: datetime, since: int) -> ViewCopy:
        """What changed from the copy `sent` (the batch ending at event `since`) to `view`; with no `since`, all."""
        if not since:
            return cls(at=at, since=0, fields=view)
        fields: dict[str, Any] = {}
        entries: dict[str, list[dict[str, Any]]] = {}
        for name, value in view.items():
            before = sent.get(name)
            if before == value:
                continue
            changed = _changed_entries(before, value)
            if changed is None:
                fields[name] = value
            else:
                entries[name] = changed
        return cls(at=at, since=since, fields=fields, entries=entries)

    def laid_over(self, kept: dict[str, Any]) -> dict[str, Any] | None:
        """The copy `kept` with this change laid over it; None if it is not a change of a list `kept` has."""
        merged = kept | self.fields
        for name, changed in self.entries.items():
            current = merged.get(name)
            if not _keyed(current):
                return None
            merged[name] = entries = list(current)
            position = {entry["key"]: n for n, entry in enumerate(entries)}
            for entry in changed:
                if entry["key"] in position:
                    entries[position[entry["key"]]] = entry
                else:
                    entries.append(entry)
        return merged


def _keyed(value: Any) -> TypeGuard[list[dict[str, Any]]]:
    """Whether `value` is a list of entries each with a distinct ``key``."""
    if not isinstance(value, list) or not all(isinstance(entry, dict) and "key" in entry for entry in value):
        return False
    return len({entry["key"] for entry in value}) == len(value)


def _changed_entries(before: Any, after: Any) -> list[dict[str, Any]] | None:
    """The entries of keyed list `after` that differ from `before` or were added to its end; None when more
    changed than that (an entry gone or moved) or they are not keyed lists: then it travels whole."""
    if not (_keyed(before) and _keyed(after)):
        return None
    if [entry["key"] for entry in after[: len(before)]] != [entry["key"] for entry in before]:
        return None
    return [entry for n, entry in enumerate(after) if n >= len(before) or before[n] != entry]


class AuditBatch(Model):
    """Events of one process, in order, written in one transaction."""

    events: list[AuditEvent]
    view: ViewCopy | None = None
    """The process's view as the batch was sent (absent from batches written before it was kept)."""


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


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
"""What a spreadsheet may take for the start of a formula: OWASP's CSV injection list, and a newline."""


def csv_cell(value: Any) -> Any:
    """`value` as a CSV cell that a spreadsheet shows as text: one that would start a formula gets a leading ``'``.

    Excel, LibreOffice and Google Sheets run a cell that starts with ``=``, ``+``, ``-`` or ``@``, and a
    leading tab or line break can hide one behind it, so an actor or step named ``=HYPERLINK(…)`` would
    open as a live link in a compliance reviewer's spreadsheet. The quote is OWASP's remedy: the
    spreadsheet shows the text as it was written, after the quote. Numbers pass as they are.

    >>> print(csv_cell('=HYPERLINK("http://evil","x")'))
    '=HYPERLINK("http://evil","x")
    >>> csv_cell("pm@example.com"), csv_cell(3)
    ('pm@example.com', 3)
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def audit_csv_row(event: dict[str, Any]) -> list[Any]:
    """A stored event in its JSON form as a row of `AUDIT_CSV_COLUMNS` (details as sorted JSON), every cell
    neutralised by `csv_cell`."""
    return [csv_cell(json.dumps(event[c], sort_keys=True) if c == "details" else event[c]) for c in AUDIT_CSV_COLUMNS]
