"""Recurring processes: what a schedule starts, how often, and the dates that move with each run (pure).

A schedule (a Temporal Schedule, `api.schedules`) starts a small workflow at each of its times
(`workflows.scheduled`), and that workflow starts one normal process of the schedule's kind, with the schedule's
parameters — but a process's dates cannot be the same at every run. A process's id derives from its business
key, and for a dated kind the key holds the date (``launch-monthly-release-2027-01-15``): a monthly release whose
``launch_date`` were written out would be the same launch every month, and from the second month on its run would
find that process already there and start nothing. So a date in a schedule's parameters may be *relative to the
run's day*: ``launch_date=+14d`` is fourteen days after the day the run happens (an end-of-life's four dates
likewise; a message's ``send_at`` is the run's moment plus the days). The schedule keeps them as written; each run
resolves them (`resolve`) from the moment the schedule fired, which its history holds, so a retried or replayed
run makes the same parameters and the same id, and a run made twice starts one process.

The run's day is its date in the schedule's time zone (`run_day`): a schedule at 00:30 in Tokyo runs on the
Tokyo date, which is the day before in UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field

from domain.audit import StoredAuditEvent
from domain.eol import MILESTONES
from domain.errors import InvalidField
from domain.ids import process_id
from domain.models import Model

RELATIVE = re.compile(r"\+(\d{1,4})d")
"""A date given relative to the run's day: ``+14d`` (0 to 9999 days after it)."""

RELATIVE_DATES: dict[str, tuple[str, ...]] = {"launch": ("launch_date",), "eol": MILESTONES, "comms": ("send_at",)}
"""The parameters of each kind that may be relative to the run (a post-mortem's key is its incident: no date)."""

MOMENTS = frozenset({"send_at"})
"""Relative parameters that are moments, not days: the run's moment plus the days, at the same time of day."""

NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
"""A schedule's name: lower-case letters, digits and hyphens, at most 63 (its Temporal schedule id)."""

STARTER = "scheduled_start"
"""The workflow every signoff schedule starts (`workflows.scheduled.ScheduledStartWorkflow`)."""

RUN_REFUSED = "RunRefused"
"""The type of the error a run's start is refused with: final, never retried (its parameters will not change)."""


def relative_days(value: object) -> int | None:
    """The days of a relative date (``"+14d"`` → 14); None for anything else."""
    if isinstance(value, str) and (found := RELATIVE.fullmatch(value.strip())):
        return int(found[1])
    return None


def is_relative(kind: str, params: dict[str, Any]) -> bool:
    """Whether any of `params`' dates is given relative to the run."""
    return any(relative_days(params.get(name)) is not None for name in RELATIVE_DATES.get(kind, ()))


def run_day(at: datetime, zone: str | None) -> date:
    """The date of the moment `at` in the time zone `zone` (None: UTC)."""
    return at.astimezone(ZoneInfo(zone) if zone else UTC).date()


def resolve(kind: str, params: dict[str, Any], at: datetime, day: date) -> dict[str, Any]:
    """`params` for the run at the moment `at` on its day `day`: every relative date made a date (ISO text,
    as a person would have typed it), everything else as it is."""
    resolved = dict(params)
    for name in RELATIVE_DATES.get(kind, ()):
        days = relative_days(params.get(name))
        if days is None:
            continue
        moved = at + timedelta(days=days) if name in MOMENTS else day + timedelta(days=days)
        resolved[name] = moved.isoformat()
    return resolved


def default_name(kind: str, params: dict[str, Any]) -> str:
    """A schedule's name when none is given: the kind and what the process is about
    (``launch-monthly-release``)."""
    about = params.get("product") or params.get("subject") or params.get("incident") or "schedule"
    return process_id(kind, str(about))[:63].rstrip("-")


def check_name(name: str) -> str:
    """`name`, if it can name a schedule.

    Raises:
        InvalidField: naming ``name``.
    """
    if not NAME.fullmatch(name):
        raise InvalidField(
            "name", f"{name!r} is not a schedule name: lower-case letters, digits and hyphens (63 at most)"
        )
    return name


def trail_of(name: str) -> str:
    """The audit trail a schedule's own events are kept under (created, paused, each run, a refusal)."""
    return f"schedule-{name}"


# ---- how often -----------------------------------------------------------------------------------------------------

EVERY = re.compile(r"(\d{1,3})(d|w|mo|y)")
UNITS = {"d": "day", "w": "week", "mo": "month", "y": "year"}


@dataclass(frozen=True)
class Every:
    """``--every``: a number of days, weeks, months or years between runs."""

    count: int
    unit: str
    """``d``, ``w``, ``mo`` or ``y``."""

    @classmethod
    def parse(cls, text: str) -> Every:
        """``7d``, ``2w``, ``1mo``, ``3mo``, ``1y``.

        Raises:
            InvalidField: naming ``every``, with the forms it takes.
        """
        found = EVERY.fullmatch(text.strip().lower())
        if not found or int(found[1]) == 0:
            raise InvalidField(
                "every", f"{text!r} is not a period: a number and d, w, mo or y (7d, 2w, 1mo, 3mo, 1y), or use a cron"
            )
        every = cls(int(found[1]), found[2])
        if every.unit == "mo" and 12 % every.count:
            raise InvalidField(
                "every", f"{text!r}: months that divide a year (1mo, 2mo, 3mo, 4mo, 6mo, 12mo), or use a cron"
            )
        return every

    @property
    def span(self) -> timedelta:
        """The period, for days and weeks (months and years are calendar periods)."""
        return timedelta(days=self.count * (7 if self.unit == "w" else 1))

    def months(self, first: int) -> list[int]:
        """The months (1–12) a run every `count` months falls in, counting from the month `first`."""
        return sorted({(first - 1 + step * self.count) % 12 + 1 for step in range(12)})

    def __str__(self) -> str:
        noun = UNITS[self.unit]
        return f"every {noun}" if self.count == 1 else f"every {self.count} {noun}s"


# ---- what a schedule starts, and what comes of each run ------------------------------------------------------------


class ScheduledStart(Model):
    """The input a schedule gives each run (`workflows.scheduled`): the parameters as the creator gave them."""

    schedule: str
    kind: str
    params: dict[str, Any]
    """Relative dates kept as written (``+14d``): each run resolves them."""
    created_by: str
    time_zone: str | None = None


class RunRequest(Model):
    """One run's start, its parameters resolved (the activity's input)."""

    schedule: str
    run: str
    """The run's own workflow id: each run is recorded once in the schedule's trail, however often it is tried."""
    kind: str
    params: dict[str, Any]
    created_by: str
    day: date
    """The run's day: the day its process is checked and named as of."""


class RunOutcome(Model):
    """What a run did: the process it started, or found already started by an earlier run of the same day."""

    process_id: str
    started: bool


class RunRefused(Model):
    """A run whose process could not start: the schedule's creator is told why."""

    schedule: str
    run: str
    kind: str
    created_by: str
    day: date
    reason: str


class ScheduleMemo(Model):
    """What signoff keeps on a Temporal schedule (its memo), to list and check schedules without decoding
    their action."""

    kind: str
    created_by: str
    every: str | None = None
    cron: str | None = None
    time_zone: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class ScheduleView(Model):
    """A schedule as the API, the CLI and the page show it."""

    name: str
    kind: str
    created_by: str
    every: str | None = None
    cron: str | None = None
    time_zone: str | None = None
    when: str
    """In words: ``every month``, ``cron 0 9 1 * * (Europe/Berlin)``."""
    params: dict[str, Any]
    paused: bool = False
    note: str | None = None
    """Why it is paused, as the person who paused it said."""
    next_runs: list[datetime] = Field(default_factory=list)
    next_process: str | None = None
    """The id the next run's process will have (None if its parameters no longer validate)."""
    last: StoredAuditEvent | None = None
    """The latest event of its trail: a run (its process, or why it was refused), a pause, its creation."""
    trail: list[StoredAuditEvent] | None = None
    """Its whole trail (``GET /api/schedules/{name}`` only)."""


def when_of(memo: ScheduleMemo) -> str:
    """How often a schedule runs, in words."""
    zone = f" ({memo.time_zone})" if memo.time_zone else ""
    if memo.every:
        return f"{Every.parse(memo.every)}{zone}"
    return f"cron {memo.cron}{zone}"
