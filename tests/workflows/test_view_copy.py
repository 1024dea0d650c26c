"""Each batch of the audit trail carries what changed in the process's view, and the store's copy follows it."""

from __future__ import annotations

import json

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from domain.enums import Decision
from domain.views import ProcessView
from tests.conftest import Stack
from tests.workflows.helpers import ITEMS, VP, Handle, Launch, decide, gate_open, kicked_off, mark_done, view_of
from workers.temporal import workflow_runner
from workflows.registry import WORKFLOWS

SAID_ON_READING = {"pending", "live", "as_of", "unavailable"}


def same(stored: ProcessView | None, live: ProcessView) -> bool:
    assert stored is not None and not stored.live and stored.as_of is not None
    return stored.model_dump(exclude=SAID_ON_READING) == live.model_dump(exclude=SAID_ON_READING)


async def copies(handle: Handle) -> list[dict[str, object]]:
    """The view copies the process's batches carried, in order."""
    found = []
    for history_event in (await handle.fetch_history()).events:
        scheduled = history_event.activity_task_scheduled_event_attributes
        if history_event.HasField("activity_task_scheduled_event_attributes") and (
            scheduled.activity_type.name == "record_events"
        ):
            found.append(json.loads(scheduled.input.payloads[0].data)["view"])
    return found


async def test_the_stored_copy_follows_the_process_and_its_decisions(launch: Launch, stack: Stack) -> None:
    handle = await launch(days_ahead=30)
    await kicked_off(handle)
    kept = stack.store.process_view(handle.id)
    assert kept is not None and kept.recorded_events == len(stack.trail(handle.id)), "a copy with every batch"
    assert [item.issue_key for item in kept.items] == [item.issue_key for item in (await view_of(handle)).items]

    await mark_done(handle, *ITEMS)
    await gate_open(handle, stack)
    await decide(handle, VP, Decision.APPROVE, comment="Ship it")

    stored = stack.store.process_view(handle.id)
    assert same(stored, await view_of(handle))
    assert stored is not None and [(a.approver, a.comment) for a in stored.approvals] == [(VP, "Ship it")]
    sent = await copies(handle)
    assert sent[0]["since"] == 0 and all(c["since"] for c in sent[1:]), "the whole view once, then what changed"
    assert all("params" not in c["fields"] for c in sent[1:])  # type: ignore[operator]


async def test_a_history_whose_batches_carry_copies_replays(launch: Launch) -> None:
    """Replay computes no copy (a replayed batch is not sent again): the inputs differ, the commands do not."""
    handle = await launch(days_ahead=30)
    await kicked_off(handle)
    replayer = Replayer(
        workflows=list(WORKFLOWS.values()), data_converter=pydantic_data_converter, workflow_runner=workflow_runner()
    )

    result = await replayer.replay_workflow(await handle.fetch_history())

    assert result.replay_failure is None
