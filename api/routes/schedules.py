"""Recurring processes: ``/api/schedules`` (make, list, show, pause, unpause, delete) and the page ``/schedules``.

Members make schedules (the owner of what they start is them, as for a start); the one who made a schedule, or
an admin, pauses, unpauses and deletes it (`api.access`: ``schedule owner``); viewers read them. The page's
forms post to routes here, held to the same rules as their REST twins and, like every change from a page,
refused from another site's page (`api.access.same_site`); each sends the browser back to the page, which says
once what was done.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.access import ROUTES
from api.deps import CurrentUser, ServicesDep
from api.rendering import TEMPLATES
from api.schemas import PauseRequest, ScheduleRequest
from domain.access import Caller, owned_by_caller, refusal
from domain.errors import Forbidden, SignoffError, Unauthenticated
from domain.kinds import KINDS
from domain.schedules import ScheduleView

router = APIRouter(tags=["schedules"])

SAID = "schedules_said"
"""The session's key for what the last change from the schedules page did, shown once when it comes back."""


@router.post("/api/schedules", status_code=201, response_model=ScheduleView)
async def create_schedule(body: ScheduleRequest, svc: ServicesDep, caller: CurrentUser) -> ScheduleView:
    """Make a recurring process: a new process of `kind` at each time (`every` or `cron`), each with its own date.
    A date in `params` may be relative to each run's day (``"launch_date": "+14d"``). The first run's parameters
    are checked as a start's: 422 names a bad field (or `every`, `cron`, `time_zone`, `name`); 409 if a schedule
    of that name exists, or the caller has as many schedules as one person may (10), or signoff as many as it keeps
    (100: `api.schedules.MAX_PER_CREATOR`, `MAX_SCHEDULES`)."""
    params = owned_by_caller(caller, body.params)
    return await svc.schedules.create(body, params, caller)


@router.get("/api/schedules", response_model=list[ScheduleView])
async def list_schedules(svc: ServicesDep) -> list[ScheduleView]:
    """Every schedule: when it runs, whether it is paused (and why), its next runs and the process the next one
    starts, and the latest event of its trail (a run's process, or why it was refused)."""
    return await svc.schedules.list()


@router.get("/api/schedules/{name}", response_model=ScheduleView)
async def get_schedule(name: str, svc: ServicesDep) -> ScheduleView:
    """One schedule, with its whole trail: made, paused, unpaused, and each run."""
    return await svc.schedules.get(name, with_trail=True)


@router.post("/api/schedules/{name}/pause", response_model=ScheduleView)
async def pause_schedule(
    name: str, svc: ServicesDep, caller: CurrentUser, body: PauseRequest | None = None
) -> ScheduleView:
    """Pause a schedule (its maker or an admin): no run until it is unpaused; the reason shows beside it."""
    return await svc.schedules.pause(name, caller, body.reason.strip() if body else "")


@router.post("/api/schedules/{name}/unpause", response_model=ScheduleView)
async def unpause_schedule(
    name: str, svc: ServicesDep, caller: CurrentUser, body: PauseRequest | None = None
) -> ScheduleView:
    """Let a paused schedule run again from its next time (its maker or an admin)."""
    return await svc.schedules.unpause(name, caller, body.reason.strip() if body else "")


@router.delete("/api/schedules/{name}", status_code=204)
async def delete_schedule(name: str, svc: ServicesDep, caller: CurrentUser) -> Response:
    """Delete a schedule (its maker or an admin); the processes it started go on."""
    await svc.schedules.delete(name, caller)
    return Response(status_code=204)


# ---- the page ------------------------------------------------------------------------------------------------------


def may_change(caller: Caller | None, view: ScheduleView) -> bool:
    """Whether the page's pause, unpause and delete forms would let `caller` in (their routes' own rule)."""
    need = ROUTES[("POST", "/schedules/{name}/pause")]
    return caller is not None and refusal(caller, need, view.created_by) is None


@router.get("/schedules", include_in_schema=False, response_class=HTMLResponse)
async def schedules_page(request: Request, svc: ServicesDep) -> Response:
    """Every schedule, with the forms its maker (or an admin) may use, and how to make one from the CLI."""
    return await _page(request, svc)


async def _page(request: Request, svc: ServicesDep, problem: str | None = None, status: int = 200) -> Response:
    caller: Caller | None = getattr(request.state, "caller", None)
    views = await svc.schedules.list()
    context: dict[str, Any] = {
        "schedules": [(view, may_change(caller, view)) for view in views],
        "said": request.session.pop(SAID, None),
        "problem": problem,
        "kinds": list(KINDS),
    }
    return TEMPLATES.TemplateResponse(request, "schedules.html", context, status_code=status)


async def _from_page(request: Request, svc: ServicesDep, change: Callable[[], Awaitable[str]]) -> Response:
    """Make `change`, then back to the page, which says what was done; a refusal shows the page with why."""
    from api.app import status_of  # (the app includes this module's router)

    try:
        said = await change()
    except (Forbidden, Unauthenticated):
        raise
    except SignoffError as err:
        return await _page(request, svc, str(err), status_of(err))
    request.session[SAID] = said
    return RedirectResponse("/schedules", status_code=303)


@router.post("/schedules/{name}/pause", include_in_schema=False)
async def pause_from_page(name: str, request: Request, svc: ServicesDep, caller: CurrentUser) -> Response:
    """ "Pause", with the reason typed beside it."""
    reason = str((await request.form()).get("reason", ""))[:500].strip()

    async def change() -> str:
        await svc.schedules.pause(name, caller, reason)
        return f"{name} is paused: no run until it is unpaused."

    return await _from_page(request, svc, change)


@router.post("/schedules/{name}/unpause", include_in_schema=False)
async def unpause_from_page(name: str, request: Request, svc: ServicesDep, caller: CurrentUser) -> Response:
    """ "Unpause": the schedule runs again from its next time."""

    async def change() -> str:
        view = await svc.schedules.unpause(name, caller)
        after = f", next on {view.next_runs[0]:%Y-%m-%d %H:%M} UTC" if view.next_runs else ""
        return f"{name} runs again{after}."

    return await _from_page(request, svc, change)


@router.post("/schedules/{name}/delete", include_in_schema=False)
async def delete_from_page(name: str, request: Request, svc: ServicesDep, caller: CurrentUser) -> Response:
    """ "Delete": no more runs; the processes it started go on."""

    async def change() -> str:
        await svc.schedules.delete(name, caller)
        return f"{name} is deleted; the processes it started go on."

    return await _from_page(request, svc, change)
