"""Recurring processes on Temporal Schedules: make, list, pause, unpause and delete them; start their runs.

A schedule is a Temporal Schedule named as the person named it, whose action starts the small
`workflows.scheduled.ScheduledStartWorkflow` with the kind, the parameters as given (dates relative to the run
kept as text: ``launch_date=+14d``, `domain.schedules`) and who made it; each run starts one normal process whose
id carries its date. Temporal is the record of a schedule (what signoff shows of it is in its memo,
`ScheduleMemo`); the audit store keeps its trail (``schedule-NAME``): who made, paused, unpaused and deleted it,
and what each run did.

Its policies: the runs are independent processes that last weeks, so one run never waits for or skips because
of another (overlap ALLOW_ALL: what the schedule itself starts is the starter, done in a second); a time missed
while Temporal was down is made up within a day (the catch-up window), never weeks later, when its dates would no
longer make sense.

A schedule is checked when it is made as a start is: it is created paused, its first two times are read back
from Temporal (which alone reads a cron in a time zone), the parameters resolved for the first run must pass
every check of a start (`prepare_start`, the same code), and the two runs must make two process ids —
else every run after the first would find the first one's process and start nothing. Then it is unpaused, or
deleted and the refusal (422, naming the field) returned.

When a schedule runs (its ``every`` or ``cron`` as a Temporal spec) is `api.schedule_specs`; how each run starts
its process, in its creator's name, is `api.schedule_runs`. This module is the service: make, read and change.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from temporalio.client import (
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleDescription,
    ScheduleHandle,
    ScheduleListActionStartWorkflow,
    ScheduleListDescription,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleState,
)
from temporalio.service import RPCError, RPCStatusCode

from api.schedule_room import ScheduleRoom
from api.schedule_runs import ScheduledStarts
from api.schedule_specs import refused, schedule_spec
from api.schemas import ScheduleRequest
from api.service import BUSY, Processes
from api.starts import MAX_INPUT_BYTES, ParamsError, prepare_start
from domain.access import Caller
from domain.errors import Conflict, InvalidField, NotFound, Unavailable, UnknownKind
from domain.kinds import KINDS
from domain.schedules import (
    NAME,
    RELATIVE_DATES,
    STARTER,
    ScheduledStart,
    ScheduleMemo,
    ScheduleView,
    check_name,
    default_name,
    resolve,
    run_day,
    trail_of,
    when_of,
)
from integrations.store import Store

# ScheduledStarts (api.schedule_runs) and schedule_spec (api.schedule_specs) are still named from here.
__all__ = ["CATCH_UP", "CHECKING", "MEMO", "ScheduledStarts", "Schedules", "next_process", "schedule_spec"]

MEMO = "signoff"
"""The memo key a schedule's `ScheduleMemo` is kept under."""

CATCH_UP = timedelta(days=1)
"""How late a run missed while Temporal was down may still be made."""

LIST_AT_ONCE = 8
"""How many schedules a list asks Temporal about at once: enough to hide the round trips, not so many that one
list floods Temporal's frontend while everyone else waits."""

CHECKING = "being checked: its first run's parameters"
"""The note of a schedule while it is made (it is paused until its first run's parameters pass)."""


def next_process(memo: ScheduleMemo, at: datetime) -> str | None:
    """The id of the process a run at `at` starts; None if its parameters no longer validate."""
    day = run_day(at, memo.time_zone)
    try:
        return KINDS[memo.kind].params.model_validate(resolve(memo.kind, memo.params, at, day)).id(day)
    except (ValidationError, KeyError, ValueError):
        return None


class Schedules:
    """The schedules of signoff's processes, on Temporal; their trails in the store."""

    def __init__(self, processes: Processes, store: Store) -> None:
        self.processes = processes
        self.store = store
        self.room = ScheduleRoom()

    async def create(self, request: ScheduleRequest, params: dict[str, Any], caller: Caller) -> ScheduleView:
        """Make a schedule of `request` with `params` (the owner already the caller's, `owned_by_caller`).

        Raises:
            UnknownKind: no such kind.
            ParamsError: naming the field: `every`, `cron`, `time_zone`, `name`, or a parameter of the first run.
            Conflict: a schedule of that name exists; or the caller has as many schedules as one may, or signoff
                as many as it keeps (`api.schedule_room`).
            Unavailable: Temporal did not answer, or the creates before this one took too long.
        """
        if request.kind not in KINDS:
            raise UnknownKind(request.kind, list(KINDS))
        try:
            name = check_name(request.name or default_name(request.kind, params))
        except InvalidField as err:
            raise refused("name", err.reason) from None
        if len(json.dumps(params)) > MAX_INPUT_BYTES // 2:  # they travel twice: in the action and the memo
            raise refused("params", f"the parameters are over the {MAX_INPUT_BYTES // 2:,} bytes a schedule keeps")
        spec = schedule_spec(request.every, request.cron, request.time_zone, datetime.now(UTC))
        memo = ScheduleMemo(
            kind=request.kind,
            created_by=caller.email,
            every=request.every,
            cron=request.cron,
            time_zone=request.time_zone,
            params=params,
        )
        start = ScheduledStart(
            schedule=name, kind=request.kind, params=params, created_by=caller.email, time_zone=request.time_zone
        )
        schedule = Schedule(
            action=ScheduleActionStartWorkflow(
                STARTER, start, id=f"scheduled-{name}", task_queue=self.processes.task_queue
            ),
            spec=spec,
            policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.ALLOW_ALL, catchup_window=CATCH_UP),
            state=ScheduleState(paused=True, note=CHECKING),
        )
        try:
            async with self.room.turn():
                self.room.check(await self._creators(), caller.email)
                handle = await self._make(name, schedule, memo)
                self.room.made(name, caller.email)
        except ScheduleAlreadyRunningError:
            raise Conflict(f"a schedule named {name} exists: choose another name, or delete that one first") from None
        except RPCError as err:
            if err.status == RPCStatusCode.INVALID_ARGUMENT:  # Temporal's text names its own fields: say ours
                raise _spec_refused(request) from None
            raise _translated(err, name) from None
        try:
            times = (await handle.describe()).info.next_action_times
            first = await asyncio.to_thread(self._check_runs, memo, caller.actor, times)
            await handle.unpause(note="")
        except BaseException:
            self.room.forget(name)
            with contextlib.suppress(RPCError):
                await handle.delete()
            raise
        await self._note(name, caller, "schedule_created", {"kind": memo.kind, "when": when_of(memo)}, "active")
        return self._view(name, memo, paused=False, note=None, times=times).model_copy(update={"next_process": first})

    async def _make(self, name: str, schedule: Schedule, memo: ScheduleMemo) -> ScheduleHandle:
        """Create the schedule, paused while it is checked. A create whose answer was lost (Temporal too slow, the
        connection gone, or the service stopped before it unpaused) may have made it: one found paused being checked
        with this very memo — the same person, kind, times and parameters — is taken as this call's (a retry's of
        that one), checked and unpaused, not refused as a name in use, nor left paused for ever."""
        client = self.processes.client
        try:
            return await client.create_schedule(name, schedule, memo={MEMO: memo})
        except ScheduleAlreadyRunningError:
            if not await self._left_being_checked(name, memo):
                raise
        except RPCError as err:
            if err.status == RPCStatusCode.INVALID_ARGUMENT or not await self._left_being_checked(name, memo):
                raise
        return client.get_schedule_handle(name)

    async def _left_being_checked(self, name: str, memo: ScheduleMemo) -> bool:
        """Whether `name` is a schedule with `memo`, paused being checked (an earlier create's, never unpaused)."""
        with contextlib.suppress(RPCError, NotFound, Unavailable):  # (not there, or no answer: not found so)
            description, found = await self._describe(name)
            state = description.schedule.state
            return state.paused and state.note == CHECKING and found == memo
        return False

    def _check_runs(self, memo: ScheduleMemo, actor: str, times: Sequence[datetime]) -> str:
        """The first run's process id, once its parameters pass a start's checks and no two of the next runs
        Temporal tells (up to ten) would make the same id (only the first run is checked whole: the parameters
        move with the run).

        Raises:
            ParamsError: naming the parameter; or `every`/`cron` for a schedule that never runs.
        """
        if not times:
            raise refused("cron" if memo.cron else "every", "this schedule would never run")
        day = run_day(times[0], memo.time_zone)
        resolved = resolve(memo.kind, memo.params, times[0], day)
        first = prepare_start(memo.kind, resolved, actor, self.processes.templates, day)[1].id
        later = [next_process(memo, at) for at in times[1:]]
        twice = next((id_ for n, id_ in enumerate([first, *later]) if id_ and id_ in later[n:]), None)
        if twice is None:
            return first
        dated = RELATIVE_DATES.get(memo.kind, ())
        hint = (
            f"give its date relative to the run ({dated[0]}=+14d: fourteen days after each run's day)"
            if dated
            else f"a {memo.kind}'s id has no date of its own to move"
        )
        problem = f"two runs would start the same process, {twice}, and only the first would: {hint}"
        loc = ["params", dated[0]] if dated else ["params"]
        raise ParamsError([{"loc": loc, "msg": problem, "type": "value_error"}])

    async def list(self) -> list[ScheduleView]:
        """Every schedule of signoff's, by name: each as Temporal describes it now (its list lags a second behind a
        pause or a delete), `LIST_AT_ONCE` at a time."""
        names = [entry.id for entry in await self._listed()]
        room = asyncio.Semaphore(LIST_AT_ONCE)

        async def one(name: str) -> ScheduleView | None:
            async with room:
                with contextlib.suppress(NotFound):  # deleted since it was listed
                    return await self.get(name)
                return None

        found = await asyncio.gather(*(one(name) for name in names))
        return sorted((view for view in found if view is not None), key=lambda view: view.name)

    async def _listed(self) -> Sequence[ScheduleListDescription]:
        """Temporal's list of signoff's schedules (one call; it lags a second behind a create or a delete)."""
        try:
            return [entry async for entry in await self.processes.client.list_schedules() if _signoffs(entry)]
        except RPCError as err:
            raise _translated(err, "") from None

    async def _creators(self) -> dict[str, str | None]:
        """Each of signoff's schedules Temporal lists, with its creator from the memo the list carries (no call per
        schedule; None when the memo does not read)."""
        creators: dict[str, str | None] = {}
        for entry in await self._listed():
            memo = None
            with contextlib.suppress(Exception):  # a memo that does not read is nobody's
                memo = await entry.memo_value(MEMO, None, type_hint=ScheduleMemo)
            creators[entry.id] = memo.created_by if memo else None
        return creators

    async def get(self, name: str, with_trail: bool = False) -> ScheduleView:
        """One schedule, and (`with_trail`) its whole trail.

        Raises:
            NotFound: no schedule of signoff's by that name.
        """
        description, memo = await self._describe(name)
        state = description.schedule.state
        return await asyncio.to_thread(  # (its trail is read from the store: not on the event loop)
            self._view, name, memo, state.paused, state.note, description.info.next_action_times, with_trail
        )

    async def creator(self, name: str) -> str:
        """Who made the schedule `name` (who may pause, unpause and delete it, besides an admin).

        Raises:
            NotFound: no such schedule.
        """
        return (await self._describe(name))[1].created_by

    async def pause(self, name: str, caller: Caller, reason: str) -> ScheduleView:
        """Pause a schedule: no run until it is unpaused; `reason` shows beside it."""
        await self._describe(name)
        await self._act(name, lambda handle: handle.pause(note=reason or f"paused by {caller.email}"))
        await self._note(name, caller, "schedule_paused", {"reason": reason}, "paused")
        return await self.get(name)

    async def unpause(self, name: str, caller: Caller, reason: str = "") -> ScheduleView:
        """Let a paused schedule run again, from its next time (the times it missed are not made up)."""
        await self._describe(name)
        await self._act(name, lambda handle: handle.unpause(note=""))
        await self._note(name, caller, "schedule_unpaused", {"reason": reason}, "active")
        return await self.get(name)

    async def delete(self, name: str, caller: Caller) -> None:
        """Delete a schedule; the processes it started go on, and its trail stays."""
        await self._describe(name)
        await self._act(name, lambda handle: handle.delete())
        self.room.forget(name)
        await self._note(name, caller, "schedule_deleted", {}, "deleted")

    async def _act(self, name: str, change: Callable[[ScheduleHandle], Awaitable[None]]) -> None:
        try:
            await change(self.processes.client.get_schedule_handle(name))
        except RPCError as err:
            raise _translated(err, name) from None

    async def _describe(self, name: str) -> tuple[ScheduleDescription, ScheduleMemo]:
        """Temporal's description of the schedule `name`, and signoff's memo on it.

        Raises:
            NotFound: no such schedule, or not one of signoff's.
            Unavailable: Temporal did not answer, or runs no schedules.
        """
        if not NAME.fullmatch(name):  # (no Temporal call for what cannot be a name: it would refuse it)
            raise NotFound(f"no schedule named {name}")
        try:
            description = await self.processes.client.get_schedule_handle(name).describe()
            memo = await description.memo_value(MEMO, None, type_hint=ScheduleMemo)
        except RPCError as err:
            raise _translated(err, name) from None
        action = description.schedule.action
        if memo is None or not isinstance(action, ScheduleActionStartWorkflow) or action.workflow != STARTER:
            raise NotFound(f"no schedule named {name}")
        return description, memo

    def _view(
        self,
        name: str,
        memo: ScheduleMemo,
        paused: bool,
        note: str | None,
        times: Sequence[datetime],
        with_trail: bool = False,
    ) -> ScheduleView:
        """The schedule as the API shows it, its trail read once (the last event always, all of it `with_trail`)."""
        events = list(self.store.trail(trail_of(name)))
        upcoming = list(times)[:3]
        return ScheduleView(
            name=name,
            kind=memo.kind,
            created_by=memo.created_by,
            every=memo.every,
            cron=memo.cron,
            time_zone=memo.time_zone,
            when=when_of(memo),
            params=memo.params,
            paused=paused,
            note=note or None,
            next_runs=upcoming,
            next_process=next_process(memo, upcoming[0]) if upcoming and not paused else None,
            last=events[-1] if events else None,
            **({"trail": events} if with_trail else {}),
        )

    async def _note(self, name: str, caller: Caller, action: str, details: dict[str, Any], status: str) -> None:
        await asyncio.to_thread(
            self.store.note, trail_of(name), caller.actor, str(caller.channel), action, details, status
        )


def _signoffs(entry: ScheduleListDescription) -> bool:
    """Whether a schedule Temporal lists is one of signoff's (it starts signoff's starter)."""
    action = entry.schedule.action if entry.schedule else None
    return isinstance(action, ScheduleListActionStartWorkflow) and action.workflow == STARTER


def _spec_refused(request: ScheduleRequest) -> ParamsError:
    """Temporal's refusal of when a schedule runs, in signoff's words, naming ``cron`` or ``every``."""
    if request.cron:
        return refused(
            "cron",
            f"{request.cron.strip()!r} is not a cron Temporal can run: five fields, minute hour day-of-month month "
            "day-of-week, such as 0 9 1 * * (09:00 on the 1st of each month)",
        )
    return refused(
        "every", f"'every {request.every}' cannot be made into a schedule Temporal runs: try 7d, 2w, 1mo, 3mo or 1y"
    )


def _translated(err: RPCError, name: str) -> Exception:
    """Temporal's refusal as signoff's error."""
    if err.status == RPCStatusCode.NOT_FOUND:
        return NotFound(f"no schedule named {name}")
    if err.status == RPCStatusCode.UNIMPLEMENTED:
        return Unavailable("this Temporal server runs no schedules (the time-skipping test server has none)")
    if err.status in BUSY:
        return Unavailable("Temporal did not answer in time; try again in a few seconds", 5)
    return err
