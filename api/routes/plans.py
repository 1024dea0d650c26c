"""Previews: ``POST /api/plans`` and the start form's Preview button, a whole process run in seconds, nothing sent.

Both run `workers.preview.preview` (the engine ``signoff plan`` runs too) on a thread of its own, one at a
time (another preview meanwhile: 503 with ``Retry-After``), with the parameters checked as a start checks
them (the owner left out is the caller; a member previews only what they may start), and refused up front
(422) when too far away or with too many approvers to finish in time. A caller that goes away stops its
preview, so the one slot frees at once, not when the preview would have ended.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
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


GONE_EVERY = 0.5
"""Seconds between two looks whether the caller of a preview is still there."""


def _gone() -> Response:
    """What a preview whose caller went away answers: nobody reads it; the access log shows 499, nginx's
    "client closed request"."""
    return Response(status_code=499)


async def plan_of(
    request: Request, svc: Services, kind: str, params: dict[str, Any], actor: str, done_items: bool = False
) -> Plan | None:
    """The preview of a process of `kind` with `params` (owned as `owned_by_caller` says), started by `actor`;
    None if the caller of `request` went away first (the preview is stopped then).

    Raises:
        UnknownKind, ParamsError, TemplateError: as a start, or the preview's own bounds (too far, too many).
        Unavailable: another preview is running, or this one did not finish in time, or its test server stopped.
    """
    return await while_there(
        request,
        preview_elsewhere(
            kind, params, templates=svc.processes.templates, actor=actor, public_url=svc.public_url,
            done_items=done_items, today=svc.processes.today(), stored=svc.store, time_zone=svc.processes.time_zone,
        ),
    )  # fmt: skip


async def while_there(request: Request, work: Coroutine[Any, Any, Plan]) -> Plan | None:
    """`work`'s answer, or None once `request`'s caller has gone (looked at every `GONE_EVERY` s), `work`
    cancelled then and waited for."""
    task = asyncio.ensure_future(work)
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=GONE_EVERY)
            if not task.done() and await request.is_disconnected():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                return None
        return task.result()
    finally:
        task.cancel()  # (this request cancelled itself: so is its preview)


@router.post("/plans", response_model=Plan)
async def preview_plan(request: Request, body: PlanRequest, svc: ServicesDep, caller: CurrentUser) -> Plan | Response:
    """Run a process of this kind on Temporal's time-skipping test server, in seconds, with every approver
    approving when asked and every item left open (``done_items``: marked done as soon as filed); nothing is
    sent and nothing kept. Answers its timeline: every message as rendered and every event of its trail, in
    time order. 422 names a bad field, as a start, and what to shorten of a process a preview cannot finish
    in time (a date too far away, too many approvers); 503 (``Retry-After``) while another preview runs."""
    params = owned_by_caller(caller, body.params)
    plan = await plan_of(request, svc, body.kind, params, caller.actor, body.done_items)
    return _gone() if plan is None else plan


async def plan_page(request: Request, svc: Services, kind: str, params: dict[str, Any], actor: str) -> Response:
    """The start form's Preview: the plan as a page, day by day (`api/routes/start_page.py` hands it the form's
    parameters, checked and owned as for a start; it shows what this raises as it shows a start's refusals)."""
    plan = await plan_of(request, svc, kind, params, actor)
    if plan is None:
        return _gone()
    days = [(day, list(entries)) for day, entries in groupby(plan.timeline, key=lambda e: e.at.date())]
    return TEMPLATES.TemplateResponse(request, "plan.html", {"plan": plan, "days": days, "kind": kind})
