"""The processes under ``/api/processes``: start, list, show, cancel, resend, remind, and what a running process
takes."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter

from api.deps import CurrentUser, ServicesDep
from api.schemas import (
    ActionItemsRequest,
    CancelRequest,
    ItemDoneRequest,
    ProcessDetail,
    ProcessRow,
    RecoverRequest,
    ResendRequest,
    RevisionRequest,
    StartRequest,
)
from api.starts import time_zone_of
from domain.access import owned_by_caller
from domain.edits import EditChanges, Edited, EditInput
from domain.enums import ProcessStatus
from domain.errors import UnknownKind
from domain.kinds import KINDS
from domain.postmortem import ActionItemsInput
from domain.updates import RecoverInput, Reminded, RemindInput, ResendInput, RevisionInput
from domain.views import Content, ItemState, ProcessView, UndeliveredMessage

router = APIRouter(prefix="/api", tags=["processes"])


@router.post("/processes", status_code=201, response_model=ProcessView)
async def start_process(body: StartRequest, svc: ServicesDep, caller: CurrentUser) -> ProcessView:
    """Start a process. 422 names a bad field; 409 if a process with that id exists."""
    params = owned_by_caller(caller, body.params)
    return await svc.processes.start(body.kind, params, caller.actor, stored=svc.store, channel=caller.channel)


@router.get("/processes", response_model=list[ProcessRow])
def list_processes(
    svc: ServicesDep,
    kind: str | None = None,
    status: ProcessStatus | None = None,
    owner: str | None = None,
    overdue: bool = False,
) -> list[dict[str, Any]]:
    """Processes, newest first, filtered by kind, status and owner, and (``overdue=true``) to the running ones with
    an item overdue (open, due before today, UTC); each says how many of its items are (``overdue``), as of the
    latest copy of its page the store keeps. An unknown kind or status is a 422 naming the known ones."""
    if kind is not None and kind not in KINDS:
        raise UnknownKind(kind, list(KINDS))
    return svc.store.processes(
        kind=kind, status=status.value if status else None, owner=owner, overdue=overdue, today=svc.processes.today()
    )


@router.get("/processes/{process_id}", response_model=ProcessDetail)
async def get_process(process_id: str, svc: ServicesDep) -> ProcessDetail:
    """A process with its steps, checklist, gates and approvals, how many items are overdue, who it waits on
    (``waiting_on``) and what happens next (``next``); when it cannot answer within `api.service.LIVE_WITHIN`
    (no worker polls, Temporal is down), the store's copy, with ``"live": false``, ``as_of`` and why
    (``unavailable``)."""
    view = await svc.processes.view(process_id, svc.store)
    return ProcessDetail.of(view, svc.processes.now(), svc.processes.today())


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


@router.post("/processes/{process_id}/remind", response_model=Reminded, status_code=202)
async def remind_now(process_id: str, svc: ServicesDep, caller: CurrentUser) -> Reminded:
    """Remind now the people the process waits on — the approvers its open gate waits on, the owners of its open
    items — with the messages its scheduled reminders send. Answers at once with who; the trail records who asked
    and each reminder sent. 409 when it waits on nobody, a reminder is on its way already, or one was asked for
    within the hour (`workflows.steps.remind_now.REMIND_COOLDOWN`; the sentence says from when, in the process's
    time zone)."""
    return await svc.processes.remind(process_id, RemindInput(by=caller.actor, channel=caller.channel))


@router.post("/processes/{process_id}/steps/{step}/recover", response_model=ProcessView)
async def recover_step(
    process_id: str, step: str, body: RecoverRequest, svc: ServicesDep, caller: CurrentUser
) -> ProcessView:
    """The owner's word on a step held for them (``held`` in the process: a gate rejected, a notice unsent, as its
    template says): ``rerun`` it alone (nothing done before it again), ``skip`` it, or ``end`` the process, with a
    ``reason`` the trail keeps. 409 when that step is not held, or for ``skip`` of an approval gate (a refused
    approval is asked again or ends); 422 without a reason."""
    word = RecoverInput(step=step, action=body.action, reason=body.reason, by=caller.actor, channel=caller.channel)
    return await svc.processes.recover(process_id, word)


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
    """File action items on a post-mortem: each a tracker issue linked to it, chased until done or won't-do.

    The answer comes once the items are recorded, before their issues exist (``issue_key`` is null): the
    issues are filed and the owners told beside it, and each key shows on the process once filed.
    """
    return await svc.processes.add_action_items(
        process_id,
        ActionItemsInput(items=body.items, by=caller.actor, channel=caller.channel).dated_within(svc.processes.today()),
    )


@router.post("/processes/{process_id}/edits", response_model=Edited)
async def edit_process(process_id: str, body: EditChanges, svc: ServicesDep, caller: CurrentUser) -> Edited:
    """Change a running process: a launch's date (launch day, the gate, every due date and reminder follow; it keeps
    its id), a message's send time (``send_at``), its gate's approvers (``replace`` old → new, ``add``, ``remove``:
    the new ones get their own link, the old ones' links stop deciding), its items' owners (``{"item-key":
    "email"}``: the tracker issue follows). Only what is named changes; the people it affects are told, and the
    trail's ``edited`` event names each change, before and after. 422 names a wrong field; 409 says what the
    process's state refuses (a gate already decided, a quorum that could no longer be met)."""
    zone = await asyncio.to_thread(time_zone_of, process_id, svc.store)  # a send_at without an offset is read in it
    edit = EditInput(**dict(body.taken(zone, svc.processes.now())), by=caller.actor, channel=caller.channel)
    return await svc.processes.edit(process_id, edit, stored=svc.store)


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
