"""A schedule's runs: how the worker's schedule activities start each run's process (`ScheduledStarts`).

A run is started as a start from the API would be (the same checks, templates and id), in the name of the
schedule's creator and only while they may still start processes: if they no longer may, the run is refused
and the schedule paused, with a note saying why. A process already under the run's id is that run's, started before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from temporalio.service import RPCError

from api.service import BUSY, Processes
from api.starts import StoredViews, prepare_start
from domain.access import Role
from domain.enums import Channel
from domain.errors import Conflict, Forbidden, Unavailable
from domain.schedules import RunOutcome, RunRequest


class ScheduledStarts:
    """How the worker's schedule activities start a run's process (`activities.schedules.Starter`): this
    service's own start (validation, templates, the id), as of the run's day, in the name of the schedule's
    creator — only while they may still start processes."""

    def __init__(self, processes: Processes, stored: StoredViews | None, role_of: Callable[[str], Role | None]) -> None:
        self.processes = processes
        self.stored = stored
        """The running launches a scheduled launch is checked against for clashes (a warning, as any start)."""
        self.role_of = role_of
        """The role a person has now, None if signoff no longer knows them (`api.auth.Authenticator.role_of`)."""

    async def start_run(self, request: RunRequest) -> RunOutcome:
        """Start `request`'s process; one already under its id is this run's, made before.

        Raises:
            Forbidden: its creator may no longer start processes (removed, or a viewer now); the schedule is
                paused, with a note saying why.
            BadInput: its parameters or template refuse it.
            Unavailable: Temporal did not answer.
        """
        await self._creator_may_start(request)
        actor = f"{request.created_by} (schedule {request.schedule})"
        try:
            view = await self.processes.start(
                request.kind, request.params, actor, stored=self.stored, channel=Channel.SYSTEM, today=request.day
            )
        except Conflict:
            _, found = await asyncio.to_thread(
                prepare_start, request.kind, request.params, actor, self.processes.templates, request.day
            )
            return RunOutcome(process_id=found.id, started=False)
        except RPCError as err:
            if err.status in BUSY:
                raise Unavailable(f"Temporal did not answer: {err.message}", 5) from None
            raise
        return RunOutcome(process_id=view.id, started=True)

    async def _creator_may_start(self, request: RunRequest) -> None:
        """Refuse the run, and pause its schedule, if its creator is no longer a member or an admin."""
        creator = request.created_by
        role = await asyncio.to_thread(self.role_of, creator)
        if role is not None and role.covers(Role.MEMBER):
            return
        now = "no longer has access to signoff" if role is None else f"is {role.with_article} now"
        note = f"paused: {creator} {now} and may not start processes"
        try:
            await self.processes.client.get_schedule_handle(request.schedule).pause(note=note)
        except RPCError as err:  # gone already, or a server without schedules (a run started by hand): no pause
            if err.status in BUSY:
                raise Unavailable(f"Temporal did not answer: {err.message}", 5) from None
        raise Forbidden(
            f"{creator} {now} and may not start processes, so their schedule starts nothing in their name; it is "
            "paused: unpause it once they are a member again, or make it anew as someone who is"
        )
