"""A schedule's runs with the worker killed: a Temporal Schedule starting a process each period.

The runs are `workflows/scheduled.py`'s.

signoff's schedules run daily at the most (`api.schedules`); the suite makes
the same Temporal Schedule `Schedules.create` makes — its action the
``scheduled_start`` workflow with a `ScheduledStart`, runs allowed to overlap,
a day's catch-up — firing every few seconds a fixed number of times. A
process's id holds its day, so every run of one day makes the same id: the
first run starts the process, and each later run finds it started (its answer
says so, and so does the schedule's trail, ``schedule-NAME``). What the count
holds a schedule to (`tests.faults.count`): every run ended and is in the trail
once; the process was started once (one execution under its id), and ran to
its end like any other.

A schedule whose runs must be refused (a message due before the run) starts
nothing; each run records the refusal and emails the schedule's creator why,
once.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

from temporalio.client import (
    Schedule,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    WorkflowExecutionStatus,
    WorkflowFailureError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from domain.access import Role
from domain.comms import CommsParams, content_hash
from domain.schedules import RUN_REFUSED, STARTER, RunOutcome, ScheduledStart
from integrations.people import People
from tests.faults.processes import Cast, Process, decide_all, finished, patiently, today, until
from tests.faults.rig import TASK_QUEUE, Rig

EVERY = timedelta(seconds=8)
"""How often the suite's schedules fire (signoff's own fire daily at the most)."""
RUNS = 3
"""How many times a schedule fires: the first run starts its process, the others find it."""
REFUSED_RUNS = 2


def _params(cast: Cast, **more: Any) -> dict[str, Any]:
    return {
        "subject": f"Faults weekly note {cast.tag}", "body": "This week: **Acme** maintenance on Sunday.",
        "audience": [f"c{n}.{cast.tag}@customer.example" for n in (1, 2, 3)], "channels": ["email", cast.channel],
        "reviewers": [f"{cast.email('vp')}:Engineering", f"{cast.email('legal')}:Legal"], "owner": cast.email("pm"),
        "template": "faults-comms", **more,
    }  # fmt: skip


def scheduled(cast: Cast) -> tuple[Process, ScheduledStart]:
    """A customer message started by a schedule's runs, made by its owner."""
    params = _params(cast)
    name = f"faults-{cast.tag}"
    process = Process("comms", cast, CommsParams.model_validate(params).id(today()), schedule=name)
    return process, ScheduledStart(schedule=name, kind="comms", params=params, created_by=cast.email("pm"))


def refused(cast: Cast) -> tuple[Process, ScheduledStart]:
    """A schedule whose every run is refused: its message's send time is in the past (a fixed one, not ``+0d``)."""
    params = _params(cast, send_at="2020-01-06T09:00:00+00:00")
    name = f"faults-{cast.tag}"
    process = Process("comms", cast, CommsParams.model_validate(params).id(today()), schedule=name, refused=True)
    return process, ScheduledStart(schedule=name, kind="comms", params=params, created_by=cast.email("pm"))


async def make_schedule(rig: Rig, start: ScheduledStart, runs: int, paused: bool = False) -> None:
    """The schedule `Schedules.create` would make of `start` (its creator a member), firing every `EVERY`,
    `runs` times; `paused` until someone unpauses it."""
    await asyncio.to_thread(People(rig.store.engine).add, start.created_by, Role.MEMBER, "faults")
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(STARTER, start, id=f"scheduled-{start.schedule}", task_queue=TASK_QUEUE),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=EVERY)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.ALLOW_ALL, catchup_window=timedelta(days=1)),
        state=ScheduleState(paused=paused, limited_actions=True, remaining_actions=runs),
    )
    await patiently(lambda: rig.client.create_schedule(start.schedule, schedule), f"schedule {start.schedule}")


async def exists(rig: Rig, workflow_id: str) -> bool:
    """Whether Temporal has a workflow `workflow_id` (a describe: no query, nothing for a worker to answer)."""
    try:
        await rig.client.get_workflow_handle(workflow_id).describe()
    except RPCError:
        return False
    return True


async def schedule_exists(rig: Rig, name: str) -> bool:
    try:
        await rig.client.get_schedule_handle(name).describe()
    except RPCError:
        return False
    return True


async def unpause(rig: Rig, name: str) -> None:
    await patiently(lambda: rig.client.get_schedule_handle(name).unpause(note=""), f"unpause {name}")


async def runs_of(rig: Rig, name: str) -> dict[str, RunOutcome | str]:
    """Each run the schedule `name` made: its outcome, ``running``, or how it failed (``RunRefused: …``)."""
    described = await rig.client.get_schedule_handle(name).describe()
    found: dict[str, RunOutcome | str] = {}
    for made in described.info.recent_actions:
        action = made.action
        if not isinstance(action, ScheduleActionExecutionStartWorkflow):
            continue
        handle = rig.client.get_workflow_handle(
            action.workflow_id, run_id=action.first_execution_run_id, result_type=RunOutcome
        )
        if (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
            found[action.workflow_id] = "running"
            continue
        try:
            found[action.workflow_id] = await handle.result(follow_runs=False)
        except WorkflowFailureError as err:
            cause = err.cause
            kind = cause.type if isinstance(cause, ApplicationError) else type(cause).__name__
            found[action.workflow_id] = f"{kind}: {cause}"
    return found


async def runs_ended(rig: Rig, name: str, runs: int) -> dict[str, RunOutcome | str] | None:
    """Every run of the schedule `name`, once it has made `runs` and each has ended."""
    found = await patiently(lambda: runs_of(rig, name), f"the runs of {name}")
    return found if len(found) == runs and "running" not in found.values() else None


async def executions(rig: Rig, workflow_id: str) -> int:
    """How many workflow executions Temporal has under `workflow_id` (a process id is never reused: 0 or 1)."""
    count = 0
    async for _ in rig.client.list_workflows(f"WorkflowId = '{workflow_id}'"):
        count += 1
    return count


async def drive_scheduled(rig: Rig, process: Process, start: ScheduledStart) -> None:
    """The schedule made; its first run starts the message, whose reviewers approve; every run ends."""
    process.started_at = time.monotonic()
    await make_schedule(rig, start, RUNS, process.paused)
    await until(lambda: exists(rig, process.id), f"the process the schedule {start.schedule} starts")
    cast = process.cast
    digest = content_hash(start.params["subject"], start.params["body"])
    await decide_all(rig, process.id, "review", [cast.email("vp"), cast.email("legal")], digest)
    await finished(rig, process)
    runs = await until(lambda: runs_ended(rig, start.schedule, RUNS), f"the runs of {start.schedule}")
    said = [r.started for r in runs.values() if isinstance(r, RunOutcome)]
    process.status += f" (runs: {said.count(True)} started it, {said.count(False)} found it)"  # (shown, not counted)


async def drive_refused(rig: Rig, process: Process, start: ScheduledStart) -> None:
    """The schedule made; each of its runs is refused (its creator emailed why) and fails."""
    process.started_at = time.monotonic()
    await make_schedule(rig, start, REFUSED_RUNS, process.paused)
    runs = await until(lambda: runs_ended(rig, start.schedule, REFUSED_RUNS), f"the runs of {start.schedule}")
    every_refused = all(isinstance(r, str) and r.startswith(f"{RUN_REFUSED}:") for r in runs.values())
    process.status = "refused, told" if every_refused else f"runs: {sorted(map(str, runs.values()))}"
    process.ended_at = time.monotonic()


DRIVERS: dict[str, tuple[Any, Any]] = {"scheduled": (scheduled, drive_scheduled), "refused": (refused, drive_refused)}
"""A schedule's ways, by name (`tests.faults.scenarios.Scenario.driver`): (its process and start, its driver)."""
