"""Pages for people: the process list, a process, the outbox.

Server-rendered, no JavaScript needed, readable on a phone.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import CurrentUser, ServicesDep
from api.page_actions import FLASH, page_actions
from api.rendering import TEMPLATES
from api.routes.outbox import as_seen_by
from api.schemas import ProcessDetail
from domain.enums import ProcessStatus
from domain.errors import BadInput, UnknownKind
from domain.kinds import KINDS
from domain.updates import ResendInput

router = APIRouter(tags=["pages"], default_response_class=HTMLResponse)


@router.get("/", include_in_schema=False)
def process_list(
    request: Request,
    svc: ServicesDep,
    kind: str | None = None,
    status: str | None = None,
    owner: str | None = None,
    overdue: bool = False,
) -> Response:
    """Every process, newest first, filterable; a filter no process could match is refused, saying the choices."""
    refuse_unknown_filters(kind, status)
    rows = svc.store.processes(kind=kind, status=status, owner=owner, overdue=overdue, today=svc.processes.today())
    return TEMPLATES.TemplateResponse(
        request,
        "processes.html",
        {
            "rows": rows,
            "kinds": list(KINDS),
            "statuses": [s.value for s in ProcessStatus],
            "filters": {"kind": kind, "status": status, "owner": owner, "overdue": overdue},
        },
    )


def refuse_unknown_filters(kind: str | None, status: str | None) -> None:
    """Refuse a kind or status no process has (a typo, an old link) rather than show an empty list.

    Raises:
        UnknownKind: naming the kinds.
        BadInput: naming the statuses.
    """
    if kind and kind not in KINDS:
        raise UnknownKind(kind, list(KINDS))
    statuses = [s.value for s in ProcessStatus]
    if status and status not in statuses:
        raise BadInput(f"unknown status {status!r}; known statuses: {', '.join(statuses)}")


@router.get("/processes/{process_id}", include_in_schema=False)
async def process_page(process_id: str, request: Request, svc: ServicesDep) -> Response:
    """A process: its steps, checklist, gate, and timeline from the audit trail; from the store's copy, and
    saying so, when the process cannot answer (`api.service.Processes.view`); the forms its reader may use
    (`api.page_actions`)."""
    live = await svc.processes.view(process_id, svc.store)
    view = ProcessDetail.of(live, svc.processes.now(), svc.processes.today())  # and who it waits on, what is next
    timeline = list(svc.store.trail(process_id))
    temporal = f"{svc.temporal_workflows_url}/{quote(process_id)}" if svc.temporal_workflows_url else None
    return TEMPLATES.TemplateResponse(
        request,
        "process.html",
        {"view": view, "timeline": timeline, "temporal_url": temporal, **page_actions(request, view)},
    )


@router.post("/processes/{process_id}/resend", include_in_schema=False)
async def resend_from_page(
    process_id: str, request: Request, svc: ServicesDep, caller: CurrentUser, key: Annotated[str, Form(max_length=400)]
) -> Response:
    """The page's "Send again": resend an undelivered message, then back to the process page, which says so."""
    message = await svc.processes.resend(process_id, ResendInput(key=key, by=caller.actor, channel=caller.channel))
    request.session[FLASH] = {"process": process_id, "text": f"Sending again: {message.what}."}
    return RedirectResponse(f"/processes/{quote(process_id)}", status_code=303)


@router.get("/outbox", include_in_schema=False)
def outbox_page(request: Request, svc: ServicesDep, caller: CurrentUser, process: str | None = None) -> Response:
    """What the outbox recorded, as a person would read it; links are clickable (approval links: see
    `as_seen_by`)."""
    entries = as_seen_by(svc.store.outbox(process), caller, svc.auth.dev_mode)
    return TEMPLATES.TemplateResponse(request, "outbox.html", {"entries": entries, "process": process})
