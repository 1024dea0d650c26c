"""Pages for people: the process list, a process, the outbox.

Server-rendered, no JavaScript needed, readable on a phone.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import ServicesDep
from api.rendering import TEMPLATES
from domain.enums import ProcessStatus
from domain.kinds import KINDS

router = APIRouter(tags=["pages"], default_response_class=HTMLResponse)


@router.get("/", include_in_schema=False)
def process_list(
    request: Request, svc: ServicesDep, kind: str | None = None, status: str | None = None, owner: str | None = None
) -> Response:
    """Every process, newest first, filterable."""
    rows = svc.store.processes(kind=kind, status=status, owner=owner)
    return TEMPLATES.TemplateResponse(
        request,
        "processes.html",
        {
            "rows": rows,
            "kinds": list(KINDS),
            "statuses": [s.value for s in ProcessStatus],
            "filters": {"kind": kind, "status": status, "owner": owner},
        },
    )


@router.get("/processes/{process_id}", include_in_schema=False)
async def process_page(process_id: str, request: Request, svc: ServicesDep) -> Response:
    """A process: its steps, checklist, gate, and timeline from the audit trail."""
    view = await svc.processes.view(process_id)
    timeline = list(svc.store.trail(process_id))
    temporal = f"{svc.temporal_workflows_url}/{quote(process_id)}" if svc.temporal_workflows_url else None
    return TEMPLATES.TemplateResponse(
        request, "process.html", {"view": view, "timeline": timeline, "temporal_url": temporal}
    )


@router.get("/outbox", include_in_schema=False)
def outbox_page(request: Request, svc: ServicesDep, process: str | None = None) -> Response:
    """What the outbox recorded, as a person would read it; links are clickable."""
    entries = svc.store.outbox(process)
    return TEMPLATES.TemplateResponse(request, "outbox.html", {"entries": entries, "process": process})
