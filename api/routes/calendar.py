"""The calendar: ``GET /api/calendar`` and the page ``/calendar``, a month of every process's dated moments.

Read from the store's copy of each process (`Store.process_views`): one
query, no workflow asked, so it answers while a worker restarts. Not every
process ever recorded: the running ones, and those that finished in the
month or after it began (`_month`).
"""

from __future__ import annotations

from calendar import Calendar
from datetime import UTC, date, datetime, time

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import ServicesDep
from api.rendering import TEMPLATES
from domain.calendar import CalendarMonth, calendar, month_start, month_text, next_month, previous_month
from domain.errors import UnknownKind
from domain.kinds import KINDS

router = APIRouter(tags=["calendar"])


def _month(svc: ServicesDep, month: str | None, kind: str | None) -> CalendarMonth:
    """The month `month` (this one by default) of the processes that can have moments in it.

    A finished process's copy was last written when it finished (`updated_at`), and what it had not yet done
    by then was called off with it; one that finished before the month began has nothing in the month, so the
    store is not asked for it. The running ones and those that finished since the month began are read.
    """
    if kind and kind not in KINDS:
        raise UnknownKind(kind, list(KINDS))
    first = month_start(month, svc.processes.today())
    since = datetime.combine(first, time.min, UTC)
    return calendar(svc.store.process_views(kind=kind, active_since=since), first, svc.processes.time_zone)


@router.get("/api/calendar", response_model=CalendarMonth)
def calendar_api(svc: ServicesDep, month: str | None = None, kind: str | None = None) -> CalendarMonth:
    """A month (``YYYY-MM``, this month by default) of launch days, gates opening and their decisions due,
    end-of-life milestones and scheduled sends, of every process (or one `kind`), in time order (UTC)."""
    return _month(svc, month, kind)


@router.get("/calendar", include_in_schema=False, response_class=HTMLResponse)
def calendar_page(request: Request, svc: ServicesDep, month: str | None = None, kind: str | None = None) -> Response:
    """The month as a grid of weeks, Monday first, with the previous and next months a click away."""
    shown = _month(svc, month, kind)
    weeks: list[list[date | None]] = [
        [day if day.month == shown.first.month else None for day in week]
        for week in Calendar().monthdatescalendar(shown.first.year, shown.first.month)
    ]
    return TEMPLATES.TemplateResponse(
        request,
        "calendar.html",
        {
            "month": shown,
            "weeks": weeks,
            "today": svc.processes.today(),
            "previous": month_text(previous_month(shown.first)),
            "next": month_text(next_month(shown.first)),
            "kind": kind,
            "kinds": list(KINDS),
        },
    )
