"""A launch schedules its retrospective: a post-mortem child that outlives it and starts days after launch day."""

from __future__ import annotations

from datetime import timedelta

from domain.enums import Decision, ProcessStatus
from domain.updates import DecisionInput
from domain.views import ProcessView
from tests.conftest import Stack
from tests.workflows.helpers import (
    ITEMS,
    LEGAL,
    OWNER,
    VP,
    emails,
    events,
    eventually,
    finished,
    gate_open,
    launch_moment,
    mark_done,
    settled,
)
from workflows.launch import LaunchWorkflow
from workflows.postmortem import PostmortemWorkflow


async def test_launch_day_schedules_a_retrospective_that_kicks_off_later(stack: Stack) -> None:
    handle = await stack.start_launch(days_ahead=2, retrospective=True)
    await gate_open(handle, stack)
    await mark_done(handle, *ITEMS)  # nothing left open: the launch ends on launch day
    for approver in (VP, LEGAL):
        await handle.execute_update(
            LaunchWorkflow.decide, DecisionInput(gate="go-no-go", approver=approver, decision=Decision.APPROVE)
        )
        await settled(handle)  # one decision at a time (tests/workflows/helpers.py: decide)

    launch = await finished(handle)

    assert launch.status == ProcessStatus.COMPLETED
    retro_id = launch.links["retrospective"]
    assert retro_id == f"postmortem-{handle.id}"
    [scheduled] = events(stack.trail(handle.id), "retrospective_scheduled")
    starts_at = launch_moment(launch) + timedelta(days=14)
    assert scheduled.details == {"process": retro_id, "starts_at": starts_at.isoformat()}
    retro = stack.client.get_workflow_handle(retro_id)
    view: ProcessView = await retro.query(PostmortemWorkflow.view)
    assert view.status == ProcessStatus.RUNNING and view.links["parent"] == handle.id
    assert view.params["commander"] == OWNER and view.params["reviewers"] == [VP, LEGAL]
    assert view.params["template"] == "retrospective" and view.params["severity"] is None
    assert "docs@example.com" in view.params["participants"]

    await stack.env.sleep(timedelta(days=14, hours=1) + (launch_moment(launch) - await stack.env.get_current_time()))

    async def kicked_off() -> bool:
        return bool(emails(stack.outbox(retro_id), f"Post-mortem for {handle.id}"))

    await eventually(kicked_off, "the retrospective to kick off")
    [kickoff] = emails(stack.outbox(retro_id), f"Post-mortem for {handle.id}")
    assert "What went well" in kickoff.body
    await retro.terminate("test over")
