"""The processes under ``/api/processes``: start, list, show, cancel, and what a running process takes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import CurrentUser, ServicesDep
from api.schemas import ActionItemsRequest, CancelRequest, ItemDoneRequest, ProcessRow, RevisionRequest, StartRequest
from domain.models import Content, ItemState, ProcessView, RevisionInput
from domain.postmortem import ActionItemsInput

router = APIRouter(prefix="/api", tags=["processes"])


@router.post("/processes", status_code=201, response_model=ProcessView)
async def start_process(body: StartRequest, svc: ServicesDep, caller: CurrentUser) -> ProcessView:
    """Start a process. 422 names a bad field; 409 if a process with that id exists."""
    return await svc.processes.start(body.kind, body.params, caller.name)


@router.get("/processes", response_model=list[ProcessRow])
def list_processes(
    svc: ServicesDep, kind: str | None = None, status: str | None = None, owner: str | None = None
) -> list[dict[str, Any]]:
    """Processes, newest first, filtered by kind, status and owner."""
    return svc.store.processes(kind=kind, status=status, owner=owner)


@router.get("/processes/{process_id}", response_model=ProcessView)
async def get_process(process_id: str, svc: ServicesDep) -> ProcessView:
    """A process with its steps, checklist, gates and approvals."""
    return await svc.processes.view(process_id)


@router.post("/processes/{process_id}/cancel", response_model=ProcessView)
async def cancel_process(
    process_id: str, svc: ServicesDep, caller: CurrentUser, body: CancelRequest | None = None
) -> ProcessView:
    """Cancel a running process; the people involved are told."""
    return await svc.processes.cancel(process_id, caller.name, body.reason if body else "", caller.channel)


@router.post("/processes/{process_id}/items/{item}/done", response_model=ItemState)
async def mark_item_done(
    process_id: str, item: str, svc: ServicesDep, caller: CurrentUser, body: ItemDoneRequest | None = None
) -> ItemState:
    """Mark a checklist or action item done, or accept it as won't-do with a reason (doing it twice changes nothing)."""
    wont_do = body.reason if body and body.resolution == "wont_do" else None
    return await svc.processes.mark_done(process_id, item, caller.name, caller.channel, wont_do)


@router.post("/processes/{process_id}/action-items", response_model=list[ItemState], status_code=201)
async def add_action_items(
    process_id: str, body: ActionItemsRequest, svc: ServicesDep, caller: CurrentUser
) -> list[ItemState]:
    """File action items on a post-mortem: each a tracker issue linked to it, chased until done or won't-do."""
    return await svc.processes.add_action_items(process_id, ActionItemsInput(items=body.items, by=caller.name))


@router.post("/processes/{process_id}/revisions", response_model=Content, status_code=201)
async def revise_message(process_id: str, revision: RevisionRequest, svc: ServicesDep, caller: CurrentUser) -> Content:
    """A new version of a message (comms): earlier approvals are void and the reviewers are asked again."""
    return await svc.processes.revise(
        process_id,
        RevisionInput(
            body=revision.body,
            subject=revision.subject,
            comment=revision.comment,
            by=caller.name,
            channel=caller.channel,
        ),
    )
