"""The REST API under ``/api`` (DESIGN.md, "Public surface")."""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from api.deps import services
from domain.audit import AUDIT_CSV_COLUMNS, StoredAuditEvent, audit_csv_row
from domain.enums import Channel
from domain.errors import BadInput, NotFound
from domain.models import Content, ItemState, ProcessView, RevisionInput
from domain.postmortem import ActionItemsInput, ActionItemSpec
from integrations.store import OutboxEntry, Position

router = APIRouter(prefix="/api", tags=["processes"])


class StartRequest(BaseModel):
    """Start a process: its kind and its parameters."""

    kind: str = Field(examples=["launch"])
    params: dict[str, Any] = Field(
        default_factory=dict,
        examples=[
            {
                "product": "Acme Analytics 2.0",
                "launch_date": "2026-12-15",
                "owner": "pm@example.com",
                "approvers": ["vp@example.com", "legal@example.com"],
                "policy": "all",
            }
        ],
    )


class CancelRequest(BaseModel):
    """Why a process is cancelled."""

    reason: str = Field("", max_length=2000)


class ProcessRow(BaseModel):
    """One process in the list."""

    id: str
    kind: str
    title: str
    owner: str
    status: str
    started_at: Any
    updated_at: Any
    progress: str | None = None
    next_deadline: Any = None


def _channel(value: str | None) -> Channel:
    return Channel.CLI if value == "cli" else Channel.API


@router.post("/processes", status_code=201, response_model=ProcessView)
async def start_process(
    body: StartRequest,
    request: Request,
    actor: str = Header("api", alias="X-Signoff-Actor"),
) -> ProcessView:
    """Start a process. 422 names a bad field; 409 if a process with that id exists."""
    return await services(request).processes.start(body.kind, body.params, actor)


@router.get("/processes", response_model=list[ProcessRow])
def list_processes(
    request: Request,
    kind: str | None = None,
    status: str | None = None,
    owner: str | None = None,
) -> list[dict[str, Any]]:
    """Processes, newest first, filtered by kind, status and owner."""
    return services(request).store.processes(kind=kind, status=status, owner=owner)


@router.get("/processes/{process_id}", response_model=ProcessView)
async def get_process(process_id: str, request: Request) -> ProcessView:
    """A process with its steps, checklist, gates and approvals."""
    return await services(request).processes.view(process_id)


@router.post("/processes/{process_id}/cancel", response_model=ProcessView)
async def cancel_process(
    process_id: str,
    request: Request,
    body: CancelRequest | None = None,
    actor: str = Header("api", alias="X-Signoff-Actor"),
    channel: str | None = Header(None, alias="X-Signoff-Channel"),
) -> ProcessView:
    """Cancel a running process; the people involved are told."""
    reason = body.reason if body else ""
    return await services(request).processes.cancel(process_id, actor, reason, _channel(channel))


class ItemDoneRequest(BaseModel):
    """How an item ends: done (the default), or accepted as won't-do with a reason."""

    resolution: Literal["done", "wont_do"] = "done"
    reason: str = Field("", max_length=2000, examples=["Replaced by feature flags."])


@router.post("/processes/{process_id}/items/{item}/done", response_model=ItemState)
async def mark_item_done(
    process_id: str,
    item: str,
    request: Request,
    body: ItemDoneRequest | None = None,
    actor: str = Header("api", alias="X-Signoff-Actor"),
    channel: str | None = Header(None, alias="X-Signoff-Channel"),
) -> ItemState:
    """Mark a checklist or action item done, or accept it as won't-do with a reason (doing it twice changes nothing)."""
    wont_do = body.reason if body and body.resolution == "wont_do" else None
    return await services(request).processes.mark_done(process_id, item, actor, _channel(channel), wont_do)


class ActionItemsRequest(BaseModel):
    """Action items to file on a post-mortem."""

    items: list[ActionItemSpec] = Field(
        min_length=1,
        max_length=50,
        examples=[[{"title": "Alert on payment error rate", "owner": "sre@example.com", "priority": "P1"}]],
    )


@router.post("/processes/{process_id}/action-items", response_model=list[ItemState], status_code=201)
async def add_action_items(
    process_id: str,
    body: ActionItemsRequest,
    request: Request,
    actor: str = Header("api", alias="X-Signoff-Actor"),
) -> list[ItemState]:
    """File action items on a post-mortem: each a tracker issue linked to it, chased until done or won't-do."""
    return await services(request).processes.add_action_items(process_id, ActionItemsInput(items=body.items, by=actor))


class RevisionRequest(BaseModel):
    """A new version of a message under review: its body (Markdown), and its subject if that changes too."""

    body: str = Field(min_length=1, max_length=100_000, examples=["We upgrade Acme on Sunday, 02:00–04:00 UTC."])
    subject: str | None = Field(None, min_length=1, max_length=500)
    comment: str = Field("", max_length=5000, examples=["Times added, as engineering asked."])


@router.post("/processes/{process_id}/revisions", response_model=Content, status_code=201)
async def revise_message(
    process_id: str,
    revision: RevisionRequest,
    request: Request,
    actor: str = Header("api", alias="X-Signoff-Actor"),
    channel: str | None = Header(None, alias="X-Signoff-Channel"),
) -> Content:
    """A new version of a message (comms): earlier approvals are void and the reviewers are asked again."""
    return await services(request).processes.revise(
        process_id,
        RevisionInput(
            body=revision.body,
            subject=revision.subject,
            comment=revision.comment,
            by=actor,
            channel=_channel(channel),
        ),
    )


@router.get("/processes/{process_id}/audit", response_model=list[StoredAuditEvent])
def process_audit(
    process_id: str,
    request: Request,
    format: Literal["json", "csv"] = Query("json"),
) -> StreamingResponse:
    """The audit trail of a process, streamed as JSON or CSV."""
    store = services(request).store
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


class AuditPage(BaseModel):
    """One page of audit events, oldest first, and the cursor of the next page (null on the last)."""

    events: list[StoredAuditEvent]
    next: str | None = Field(None, description="Pass as `after` for the next page.")


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


@router.get("/audit", response_model=AuditPage, tags=["audit"])
def search_audit(
    request: Request,
    process: str | None = None,
    actor: str | None = None,
    kind: Annotated[str | None, Query(description="The event's action: decision, message_sent, revised …")] = None,
    start: Annotated[datetime | None, Query(alias="from", description="At or after this time (ISO 8601).")] = None,
    end: Annotated[datetime | None, Query(alias="to", description="Before this time (ISO 8601).")] = None,
    after: Annotated[str | None, Query(description="The `next` cursor of the page before.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditPage:
    """Audit events across every process, oldest first, filtered and paginated (keyset: fast however long the trail)."""
    start, end = _utc("from", start), _utc("to", end)
    position = decode_cursor(after) if after else None
    store = services(request).store
    if process and store.process(process) is None:
        raise NotFound(f"no audit trail for process {process}")
    events, following = store.search(process, actor, kind, start, end, position, limit)
    return AuditPage(events=events, next=encode_cursor(following) if following else None)


@router.get("/outbox", response_model=list[OutboxEntry], tags=["outbox"])
def list_outbox(request: Request, process: str | None = None) -> list[OutboxEntry]:
    """What the outbox recorded instead of sending, oldest first."""
    return services(request).store.outbox(process)


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
