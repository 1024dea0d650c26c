"""Previews: ``POST /api/plans`` and the start form's Preview button, a whole process run in seconds, nothing sent.

Both run `workers.preview.preview` (the engine ``signoff plan`` runs too) on a thread of its own, one at a
time (another preview meanwhile: 503 with ``Retry-After``), with the parameters checked as a start checks
them (the owner left out is the caller; a member previews only what they may start).
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import Field

from api.deps import CurrentUser, Services, ServicesDep
from api.rendering import TEMPLATES
from api.schemas import StartRequest
from domain.access import owned_by_caller
from workers.preview import preview_elsewhere
from workers.timeline import Plan

router = APIRouter(prefix="/api", tags=["plans"])


class PlanRequest(StartRequest):
    """Preview a process: its kind and its parameters, as a start takes them."""

    done_items: bool = Field(False, description="Every item marked done as soon as it is filed, not left open.")


async def plan_of(svc: Services, kind: str, params: dict[str, Any], actor: str, done_items: bool = False) -> Plan:
    """The preview of a process of `kind` with `params` (owned as `owned_by_caller` says), started by `actor`.

    Raises:
        UnknownKind, ParamsError, TemplateError: as a start.
        Unavailable: another preview is running, or this one did not finish in time.
    """
    return await preview_elsewhere(
        kind, params, templates=svc.processes.templates, actor=actor, public_url=svc.public_url,
        done_items=done_items, today=svc.processes.today(), stored=svc.store, time_zone=svc.processes.time_zone,
    )  # fmt: skip


@router.post("/plans", response_model=Plan)
async def preview_plan(body: PlanRequest, svc: ServicesDep, caller: CurrentUser) -> Plan:
    """Run a process of this kind on Temporal's time-skipping test server, in seconds, with every approver
    approving when asked and every item left open (``done_items``: marked done as soon as filed); nothing is
    sent and nothing kept. Answers its timeline: every message as rendered and every event of its trail, in
    time order. 422 names a bad field, as a start; 503 (``Retry-After``) while another preview runs."""
    params = owned_by_caller(caller, body.params)
    return await plan_of(svc, body.kind, params, caller.actor, body.done_items)


async def plan_page(request: Request, svc: Services, kind: str, params: dict[str, Any], actor: str) -> Response:
    """The start form's Preview: the plan as a page, day by day (`api/routes/start_page.py` hands it the form's
    parameters, checked and owned as for a start; it shows what this raises as it shows a start's refusals)."""
    plan = await plan_of(svc, kind, params, actor)
    days = [(day, list(entries)) for day, entries in groupby(plan.timeline, key=lambda e: e.at.date())]
    return TEMPLATES.TemplateResponse(request, "plan.html", {"plan": plan, "days": days, "kind": kind})
