"""The runs of recurring processes: start one run's process, and tell the schedule's creator when it cannot start.

The process is started by a `Starter` the worker hands in (`api.schedules.ScheduledStarts`): the web service's
own start, with its validation and template loading, as of the run's day. Each run is recorded in the schedule's
audit trail (``schedule-NAME``, `domain.schedules.trail_of`), once however often the activity is tried.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import timedelta
from typing import Any, Protocol

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.errors import integration_errors
from domain.audit import StoredAuditEvent
from domain.errors import BadInput, Forbidden, Unavailable
from domain.requests import Delivery
from domain.schedules import RUN_REFUSED, RunOutcome, RunRefused, RunRequest, trail_of
from integrations.ports import Email, Mailer, Renderer


class Starter(Protocol):
    """Starts a run's process as a start from the API would (`api.schedules.ScheduledStarts`)."""

    async def start_run(self, request: RunRequest) -> RunOutcome:
        """Validate and start the process of `request`, as of its day; a process already under its id is this
        run's (started: False).

        Raises:
            Forbidden: its creator may no longer start processes (final).
            BadInput: the parameters or the template refuse it (final).
            Unavailable: Temporal did not answer (try again).
        """
        ...


class Trail(Protocol):
    """The audit trails outside every process (`integrations.store.Store`)."""

    def note(
        self, trail: str, actor: str, channel: str, action: str, details: dict[str, Any], status: str = "refused"
    ) -> StoredAuditEvent:
        """Add an event to `trail`, hash-chained."""
        ...

    def trail(self, process_id: str) -> Iterable[StoredAuditEvent]:
        """Every event of `process_id`'s trail, in order."""
        ...


class ScheduleActivities:
    """Starts the runs of schedules, and tells a schedule's creator about a run that could not start."""

    def __init__(self, starter: Starter, trail: Trail, mailer: Mailer, renderer: Renderer, schedules_url: str) -> None:
        self.starter = starter
        self.trail = trail
        self.mailer = mailer
        self.renderer = renderer
        self.schedules_url = schedules_url
        """The schedules page, linked from the email about a refused run."""

    @activity.defn(name="start_scheduled_run")
    async def start_run(self, request: RunRequest) -> RunOutcome:
        """Start the process of one run; a refusal is final (`domain.schedules.RUN_REFUSED`)."""
        try:
            outcome = await self.starter.start_run(request)
        except (BadInput, Forbidden) as err:
            raise ApplicationError(str(err), type=RUN_REFUSED, non_retryable=True) from err
        except Unavailable as err:
            delay = timedelta(seconds=err.retry_after) if err.retry_after else None
            raise ApplicationError(str(err), type="Unavailable", next_retry_delay=delay) from err
        # (a try after one that started the process but lost its answer says it found it: the process is the same)
        details = {"run": request.run, "day": request.day.isoformat(), "process": outcome.process_id}
        action = "run_started" if outcome.started else "run_found_started"
        await asyncio.to_thread(self._note_once, request.schedule, request.created_by, action, details, "active")
        return outcome

    @activity.defn(name="tell_run_refused", no_thread_cancel_exception=True)
    def tell_run_refused(self, refused: RunRefused) -> Delivery:
        """Record a refused run in the schedule's trail and email its creator why (each once)."""
        details = {"run": refused.run, "day": refused.day.isoformat(), "reason": refused.reason}
        self._note_once(refused.schedule, refused.created_by, "run_refused", details, "refused")
        context: dict[str, object] = {
            "schedule": refused.schedule,
            "kind": refused.kind,
            "day": refused.day.isoformat(),
            "reason": refused.reason,
            "schedules_url": self.schedules_url,
            "about": f"the schedule {refused.schedule}",
            "created_by": refused.created_by,
        }
        rendered = self.renderer.render("schedule_refused", context)
        email = Email(
            key=f"{refused.run}:refused",
            process_id=trail_of(refused.schedule),
            to=[refused.created_by],
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
        )
        with integration_errors():
            return self.mailer.send(email)

    def _note_once(self, schedule: str, creator: str, action: str, details: dict[str, Any], status: str) -> None:
        """Add `action` of the run in `details` to the schedule's trail, unless a try before this one did."""
        trail = trail_of(schedule)
        events = list(self.trail.trail(trail))  # (read whole: a trail's stream holds a connection till its end)
        if any(e.action == action and e.details.get("run") == details["run"] for e in events):
            return
        with integration_errors():
            self.trail.note(trail, f"{creator} (schedule {schedule})", "system", action, details, status=status)
