"""The audit trail under ``/api``: one process's, streamed as JSON or CSV, and a search across every trail."""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from api.deps import ServicesDep
from api.schemas import AuditPage
from domain.audit import AUDIT_CSV_COLUMNS, StoredAuditEvent, audit_csv_row
from domain.errors import BadInput, NotFound
from integrations.store import Position

router = APIRouter(prefix="/api", tags=["audit"])


@router.get("/processes/{process_id}/audit", response_model=list[StoredAuditEvent])
def process_audit(
    process_id: str, svc: ServicesDep, format: Literal["json", "csv"] = Query("json")
) -> StreamingResponse:
    """The audit trail of a process, streamed as JSON or CSV."""
    store = svc.store
    if store.process(process_id) is None:
        raise NotFound(f"no audit trail for process {process_id}")
    events = store.trail(process_id)
    if format == "csv":
        return StreamingResponse(
            _csv(events),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{process_id}-audit.csv"'},
        )
    return StreamingResponse(_json(events), media_type="application/json")


def encode_cursor(position: Position) -> str:
    """An opaque cursor for `position` (clients pass it back, never build it)."""
    return base64.urlsafe_b64encode(f"{position.at.isoformat()}|{position.id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    """The position an `encode_cursor` cursor stands for.

    Raises:
        BadInput: `cursor` is not one this API gave out.
    """
    try:
        at, _, row = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().partition("|")
        position = Position(at=datetime.fromisoformat(at), id=int(row))
        if position.at.tzinfo is None or not 0 <= position.id < 2**63:
            raise ValueError("a cursor's time has a zone and its id fits a row id")
        return position.model_copy(update={"at": position.at.astimezone(UTC)})
    except (ValueError, OverflowError):
        raise BadInput("`after` is not a cursor from this API: pass the `next` of the page before") from None


def _utc(name: str, moment: datetime | None) -> datetime | None:
    """A `from`/`to` time as UTC; one without a zone, or out of range there, is bad input."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise BadInput(f"`{name}` needs a time zone (for example 2026-12-01T00:00:00Z)")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise BadInput(f"`{name}` is out of range in UTC") from None


@router.get("/audit", response_model=AuditPage)
def search_audit(
    svc: ServicesDep,
    process: Annotated[str | None, Query(max_length=300)] = None,
    actor: Annotated[str | None, Query(max_length=400)] = None,
    kind: Annotated[
        str | None, Query(max_length=100, description="The event's action: decision, message_sent, revised …")
    ] = None,
    start: Annotated[datetime | None, Query(alias="from", description="At or after this time (ISO 8601).")] = None,
    end: Annotated[datetime | None, Query(alias="to", description="Before this time (ISO 8601).")] = None,
    after: Annotated[str | None, Query(max_length=200, description="The `next` cursor of the page before.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditPage:
    """Audit events across every process, oldest first, filtered and paginated (keyset: fast however long the trail)."""
    start, end = _utc("from", start), _utc("to", end)
    position = decode_cursor(after) if after else None
    store = svc.store
    if process and store.process(process) is None:
        raise NotFound(f"no audit trail for process {process}")
    events, following = store.search(process, actor, kind, start, end, position, limit)
    return AuditPage(events=events, next=encode_cursor(following) if following else None)


def _json(events: Iterator[StoredAuditEvent]) -> Iterator[str]:
    yield "["
    for n, event in enumerate(events):
        yield ("," if n else "") + event.model_dump_json()
    yield "]"


def _csv(events: Iterator[StoredAuditEvent]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(AUDIT_CSV_COLUMNS)
    for event in events:
        writer.writerow(audit_csv_row(event.model_dump(mode="json")))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
