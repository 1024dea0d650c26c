"""The calendar: the dated moments of every process in a month, and launches that land on one day (pure).

Each process says its own plan (`ProcessView.plan`: a gate opening, launch
day, end-of-life milestones, a scheduled send); the calendar lays those of a
month out by day, with the decisions an open gate waits for by its expiry.
Two launches on one day that share people — stakeholders, approvers, item
owners — are a clash: a warning, never a refusal, because a product manager
may mean it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from domain.enums import GateStatus, ProcessStatus
from domain.errors import InvalidField
from domain.launch import LaunchParams
from domain.views import ProcessView

_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")  # ASCII digits: \d takes any script's

YEARS = range(1900, 3000)
"""The years the calendar shows: wide enough for any plan, and months before and after each stay dates."""


class CalendarEntry(BaseModel):
    """One dated moment of one process."""

    at: datetime
    what: str
    process: str
    kind: str
    title: str
    status: ProcessStatus
    step: str | None = None


class CalendarMonth(BaseModel):
    """A month of moments, in time order."""

    month: str
    """``YYYY-MM``."""
    first: date
    last: date
    zone: str = ""
    """The time zone its days are laid out in (the deployment's; empty: UTC)."""
    entries: list[CalendarEntry]

    def on(self, day: date) -> list[CalendarEntry]:
        """The entries of `day` (in `zone`), in time order."""
        here = ZoneInfo(self.zone or "UTC")
        return [entry for entry in self.entries if entry.at.astimezone(here).date() == day]


class Clash(BaseModel):
    """Another launch on the same day that shares people with this one."""

    process: str
    title: str
    day: date
    people: list[str]

    @property
    def sentence(self) -> str:
        """The warning, in words."""
        return f"{self.title} ({self.process}) is also on {self.day}, with {', '.join(self.people)}"


def month_start(text: str | None, today: date) -> date:
    """The first day of the month `text` names (``YYYY-MM``), or of this month.

    Raises:
        InvalidField: `text` is not a month.
    """
    if not text:
        return today.replace(day=1)
    match = _MONTH.match(text.strip())
    if match is None or not 1 <= int(match[2]) <= 12 or int(match[1]) not in YEARS:
        raise InvalidField(
            "month",
            f"a month is written YYYY-MM, like {month_text(today)}, in the years {YEARS[0]} to {YEARS[-1]}; "
            f"got {text!r}",
        )
    return date(int(match[1]), int(match[2]), 1)


def month_text(day: date) -> str:
    """The month of `day` as ``YYYY-MM`` (the year in four digits, whatever it is)."""
    return f"{day.year:04d}-{day.month:02d}"


def next_month(first: date) -> date:
    """The first day of the month after the one starting on `first`."""
    return (first + timedelta(days=32)).replace(day=1)


def previous_month(first: date) -> date:
    """The first day of the month before the one starting on `first`."""
    return (first - timedelta(days=1)).replace(day=1)


def calendar(views: Iterable[ProcessView], first: date, zone: str = "") -> CalendarMonth:
    """The month starting on `first`, its days in the time `zone` (empty: UTC): each process's planned moments
    in it, and the decisions open gates wait for by their expiry."""
    after, here = next_month(first), ZoneInfo(zone or "UTC")
    entries = [
        CalendarEntry(
            at=at, what=what, step=step, process=view.id, kind=view.kind, title=view.title, status=view.status
        )
        for view in views
        for at, what, step in _moments(view)
        if first <= at.astimezone(here).date() < after
    ]
    entries.sort(key=lambda entry: (entry.at, entry.process))
    last = after - timedelta(days=1)
    return CalendarMonth(month=month_text(first), first=first, last=last, zone=zone, entries=entries)


def _moments(view: ProcessView) -> Iterable[tuple[datetime, str, str | None]]:
    for moment in view.plan:
        yield moment.at, moment.what, moment.step
    for gate in view.gates:
        if gate.status == GateStatus.OPEN and gate.expires_at is not None:
            yield gate.expires_at, f"{gate.title}: decisions due", gate.key


def launch_day(view: ProcessView) -> date | None:
    """The day a launch's view says it launches on."""
    day = view.params.get("launch_date")
    return date.fromisoformat(day) if isinstance(day, str) else None


def launch_people(params: Mapping[str, Any], items: Iterable[str] = ()) -> set[str]:
    """Who a launch involves: its owner, approvers, stakeholders, the checklist's owners (`items`, or those
    named in `owners` before any item exists)."""
    owners = params.get("owners") or {}
    named = [params.get("owner"), *(params.get("approvers") or []), *(params.get("stakeholders") or [])]
    named += [*owners.values(), *items] if isinstance(owners, Mapping) else list(items)
    return {str(person).lower() for person in named if person}


def launch_clashes(params: LaunchParams, today: date, launches: Iterable[ProcessView]) -> list[Clash]:
    """The running launches on the day of the launch `params` would start that share people with it."""
    people = launch_people(params.model_dump(mode="json"))
    return clashes(params.id(today), params.launch_date, people, launches)


def clashes(process: str, day: date, people: set[str], launches: Iterable[ProcessView]) -> list[Clash]:
    """The other running launches on `day` that share any of `people` with launch `process`."""
    found = []
    for other in launches:
        if other.id == process or other.kind != "launch" or other.status.finished or launch_day(other) != day:
            continue
        shared = people & launch_people(other.params, (item.owner for item in other.items))
        if shared:
            found.append(Clash(process=other.id, title=other.title, day=day, people=sorted(shared)))
    return found
