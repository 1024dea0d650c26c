"""An id is never reused, even once Temporal has forgotten its run: a start under an id the store knows (its line
on the process list, its audit trail) is refused 409 before Temporal is asked, by every way in — the API, an
event, a schedule's run. (tests/integration/test_ids_never_reused.py deletes a real run from a dev server.)

Here the store remembers a run Temporal never had: what a run looks like once the namespace's retention (24 h on
the dev server) has removed it from Temporal.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from temporalio.service import RPCError, RPCStatusCode

from api.schedule_runs import ScheduledStarts
from api.service import Processes
from config.templates import load_template
from domain.access import Role
from domain.audit import AuditEvent, ProcessSummary
from domain.enums import ProcessStatus
from domain.schedules import RunRequest
from tests.api.conftest import client_of
from tests.api.helpers import launch_id, launch_params
from tests.api.test_hooks import post_event
from tests.conftest import Stack

OLD_OWNER = "old-owner@example.com"


def remembered(stack: Stack, process_id: str) -> None:
    """The store's trail of an earlier run under `process_id`, cancelled, owned by someone else."""
    summary = ProcessSummary(id=process_id, kind="launch", title="Launch of an earlier run", owner=OLD_OWNER,
                             status=ProcessStatus.RUNNING)  # fmt: skip
    at = datetime(2026, 1, 5, 9, tzinfo=UTC)
    for seq, (action, status) in enumerate([("started", "running"), ("cancelled", "cancelled")], start=1):
        run = summary.model_copy(update={"status": ProcessStatus(status)})
        when = at + timedelta(minutes=seq)
        stack.store.append(AuditEvent(process=run, seq=seq, at=when, actor=OLD_OWNER, action=action, details={}))


def processes_of(stack: Stack, today: date) -> Processes:
    return Processes(stack.client, stack.task_queue, load_template, today=lambda: today, records=stack.store)


@pytest.fixture
async def remembering(stack: Stack, today: date) -> AsyncIterator[httpx.AsyncClient]:
    """The app, its starts checked against the store as `signoff web` and `signoff dev` check them."""
    async with client_of(stack, today, processes=processes_of(stack, today)) as client:
        yield client


async def temporal_never_asked(stack: Stack, process_id: str) -> None:
    with pytest.raises(RPCError) as err:
        await stack.client.get_workflow_handle(process_id).describe()
    assert err.value.status == RPCStatusCode.NOT_FOUND


def the_old_run_alone(stack: Stack, process_id: str) -> None:
    trail = stack.trail(process_id)
    assert [(e.seq, e.action, e.actor) for e in trail] == [(1, "started", OLD_OWNER), (2, "cancelled", OLD_OWNER)]
    kept = stack.store.process_view(process_id)
    assert kept is not None and kept.owner == OLD_OWNER and kept.status == ProcessStatus.CANCELLED


async def test_a_start_under_an_id_the_store_knows_is_refused_409_before_temporal_is_asked(
    remembering: httpx.AsyncClient, stack: Stack, today: date
) -> None:
    params = launch_params(today + timedelta(days=30))
    process_id = launch_id(params)
    remembered(stack, process_id)

    again = await remembering.post("/api/processes", json={"kind": "launch", "params": params})

    assert again.status_code == 409, again.text
    assert again.json()["detail"] == f"a process with id {process_id} already exists; ids are never reused"
    await temporal_never_asked(stack, process_id)
    the_old_run_alone(stack, process_id)


async def test_a_new_id_still_starts(remembering: httpx.AsyncClient, stack: Stack, today: date) -> None:
    remembered(stack, launch_id(launch_params(today + timedelta(days=30), product="Some Other")))
    params = launch_params(today + timedelta(days=30))

    started = await remembering.post("/api/processes", json={"kind": "launch", "params": params})

    assert started.status_code == 201, started.text
    assert started.json()["id"] == launch_id(params)


async def test_an_event_under_a_remembered_id_starts_nothing_and_says_unchanged(
    remembering: httpx.AsyncClient, stack: Stack, today: date
) -> None:
    event: dict[str, Any] = {
        "type": "launch.requested", "id": "evt-reused", "product": "Acme Reused",
        "launch_date": (today + timedelta(days=10)).isoformat(), "owner": "pm@example.com",
        "approvers": ["vp@example.com"],
    }  # fmt: skip
    process_id = f"launch-acme-reused-{event['launch_date']}"
    remembered(stack, process_id)

    answer = await post_event(remembering, event)

    assert answer.status_code == 200, answer.text
    [action] = answer.json()["actions"]
    assert action == {
        "rule": "launch-from-event",
        "unchanged": f"a process with id {process_id} already exists; ids are never reused",
    }
    await temporal_never_asked(stack, process_id)
    the_old_run_alone(stack, process_id)


async def test_a_schedules_run_under_a_remembered_id_starts_nothing(stack: Stack, today: date) -> None:
    params = launch_params(today + timedelta(days=30))
    process_id = launch_id(params)
    remembered(stack, process_id)
    starts = ScheduledStarts(processes_of(stack, today), stack.store, lambda _: Role.MEMBER)
    run = RunRequest(schedule="weekly", run="weekly-1", kind="launch", params=params, created_by="pm@example.com",
                     day=today)  # fmt: skip

    outcome = await starts.start_run(run)

    assert (outcome.process_id, outcome.started) == (process_id, False)
    await temporal_never_asked(stack, process_id)
    the_old_run_alone(stack, process_id)
