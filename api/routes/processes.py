"""The processes under ``/api/processes``: start, list, show, cancel, resend, and what a running process takes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import CurrentUser, ServicesDep
from api.schemas import (
    ActionItemsRequest,
    CancelRequest,
    ItemDoneRequest,
    ProcessRow,
    ResendRequest,
    RevisionRequest,
    StartRequest,
)
from domain.access import owned_by_caller
from domain.enums import ProcessStatus
from domain.errors import UnknownKind
from domain.kinds import KINDS
from domain.models import Content, ItemState, ProcessView, ResendInput, RevisionInput, UndeliveredMessage
from domain.postmortem import ActionItemsInput

router = APIRouter(prefix="/api", tags=["processes"])


@router.post("/processes", status_code=201, response_model=ProcessView)
async def start_process(body: StartRequest, svc: ServicesDep, caller: CurrentUser) -> ProcessView:
    """Start a process. 422 names a bad field; 409 if a process with that id exists."""
    return await svc.processes.start(body.kind, owned_by_caller(caller, body.params), caller.actor)


@router.get("/processes", response_model=list[ProcessRow])
def list_processes(
    svc: ServicesDep, kind: str | None = None, status: ProcessStatus | None = None, owner: str | None = None
) -> list[dict[str, Any]]:
    """Processes, newest first, filtered by kind, status and owner; an unknown kind or status is a 422 naming the
    known ones."""
    if kind is not None and kind not in KINDS:
        raise UnknownKind(kind, list(KINDS))
    return svc.store.processes(kind=kind, status=status.value if status else None, owner=owner)


@router.get("/processes/{process_id}", response_model=ProcessView)
async def get_process(process_id: str, svc: ServicesDep) -> ProcessView:
    """A process with its steps, checklist, gates and approvals; when it cannot answer within
    `api.service.LIVE_WITHIN` (no worker polls, Temporal is down), the store's copy, with ``"live": false``,
    ``as_of`` and why (``unavailable``)."""
    return await svc.processes.view(process_id, svc.store)


@router.post("/processes/{process_id}/cancel", response_model=ProcessView)
async def cancel_process(
    process_id: str, svc: ServicesDep, caller: CurrentUser, body: CancelRequest | None = None
) -> ProcessView:
    """Cancel a running process; the people involved are told."""
    return await svc.processes.cancel(process_id, caller.actor, body.reason if body else "", caller.channel)


@router.post("/processes/{process_id}/resend", response_model=UndeliveredMessage, status_code=202)
async def resend_message(
    process_id: str, body: ResendRequest, svc: ServicesDep, caller: CurrentUser
) -> UndeliveredMessage:
    """Deliver again a message the process could not deliver (its `undelivered`), as it was. Answers at once;
    the process page shows how it went. 404 if the process has no such message, 409 if it has ended."""
    return await svc.processes.resend(process_id, ResendInput(key=body.key, by=caller.actor, channel=caller.channel))


@router.post("/processes/{process_id}/items/{item}/done", response_model=ItemState)
async def mark_item_done(
    process_id: str, item: str, svc: ServicesDep, caller: CurrentUser, body: ItemDoneRequest | None = None
) -> ItemState:
    """Mark a checklist or action item done, or accept it as won't-do with a reason (doing it twice changes nothing)."""
    wont_do = body.reason if body and body.resolution == "wont_do" else None
    return await svc.processes.mark_done(process_id, item, caller.actor, caller.channel, wont_do)


@router.post("/processes/{process_id}/action-items", response_model=list[ItemState], status_code=201)
async def add_action_items(
    process_id: str, body: ActionItemsRequest, svc: ServicesDep, caller: CurrentUser
) -> list[ItemState]:
    """File action items on a post-mortem: each a tracker issue linked to it, chased until done or won't-do."""
    return await svc.processes.add_action_items(process_id, ActionItemsInput(items=body.items, by=caller.actor))


@router.post("/processes/{process_id}/revisions", response_model=Content, status_code=201)
async def revise_message(process_id: str, revision: RevisionRequest, svc: ServicesDep, caller: CurrentUser) -> Content:
    """A new version of a message (comms): earlier approvals are void and the reviewers are asked again."""
    return await svc.processes.revise(
        process_id,
        RevisionInput(
            body=revision.body,
            subject=revision.subject,
            comment=revision.comment,
            by=caller.actor,
            channel=caller.channel,
        ),
    )
