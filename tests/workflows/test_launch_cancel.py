"""Cancelling a launch, by the `cancel` update or through Temporal: the clean-up runs either way."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowUpdateStage

from domain.enums import ProcessStatus
from domain.updates import CancelInput
from domain.views import ProcessView
from tests.conftest import Stack
from tests.workflows.helpers import (
    CHANNEL,
    LEGAL,
    OWNER,
    SUPPORT,
    VP,
    Handle,
    Launch,
    assert_trail_consistent,
    emails,
    events,
    finished,
    gate_open,
    hold_outbox,
    issue_keys,
    kicked_off,
    mark_done,
    refusal,
    transitioned,
)
from workflows.launch import LaunchWorkflow

REASON = "The market moved; we launch with the next release."


async def cancel(handle: Handle, by: str = OWNER, reason: str = REASON) -> ProcessView:
    """Cancel, and wait for the trail: the update answers once the clean-up has run, its rows written after."""
    view: ProcessView = await handle.execute_update(LaunchWorkflow.cancel, CancelInput(by=by, reason=reason))
    await finished(handle)
    return view


def assert_cleaned_up(stack: Stack, view: ProcessView, involved: list[str], by: str) -> None:
    """Everyone involved is told, every issue still open is closed, the trail says who cancelled."""
    outbox = stack.outbox(view.id)
    [ended] = emails(outbox, f"Launch of {view.params['product']} cancelled")
    assert ended.to == sorted(involved)
    assert f"cancelled by {by}" in ended.body
    assert [c.to for c in outbox if c.channel == "chat" and "has been cancelled" in c.body] == [[CHANNEL]]
    assert sorted(transitioned(outbox)) == issue_keys(view), "each issue closed exactly once"
    closes = [o.meta for o in outbox if o.channel == "tracker" and "status" in o.meta]
    dropped = {m["issue_key"] for m in closes if m["resolution"] == "wont_do"}
    assert dropped == {i.issue_key for i in view.items if i.status == "open"} | {view.links["epic"]}, (
        "the open items and the epic are closed as won't do; items done before stay done"
    )
    trail = stack.trail(view.id)
    [cancelled] = events(trail, "cancelled")
    assert cancelled.actor == by
    assert_trail_consistent(trail, ProcessStatus.CANCELLED)


async def test_cancel_during_the_checklist(launch: Launch, stack: Stack) -> None:
    handle = await launch(days_ahead=30)
    await kicked_off(handle)
    await mark_done(handle, "documentation", "release-notes")  # docs@ has nothing open any more

    view = await cancel(handle)

    assert view.status == ProcessStatus.CANCELLED and view.outcome == REASON
    assert {s.key: s.status for s in view.steps} == {
        "kickoff": "done",
        "checklist": "skipped",
        "go-no-go": "skipped",
        "launch-day": "skipped",
    }
    # the update returns once the clean-up has run (the trail once it ended: `cancel`)
    assert_cleaned_up(stack, view, [OWNER, VP, LEGAL, SUPPORT], by=OWNER)
    [cancelled] = events(stack.trail(handle.id), "cancelled")
    assert cancelled.details["reason"] == REASON and cancelled.channel == "api"
    result = await finished(handle)
    assert result.status == ProcessStatus.CANCELLED
    assert stack.trail(handle.id)[-1].status == ProcessStatus.CANCELLED


async def test_cancel_while_the_gate_is_open(launch: Launch, stack: Stack) -> None:
    handle = await launch(days_ahead=2)
    await gate_open(handle, stack)
    await mark_done(handle, "support-training")

    view = await cancel(handle, by=VP)

    assert view.status == ProcessStatus.CANCELLED
    assert view.gates[0].status == "closed"
    assert {s.key: s.status for s in view.steps}["go-no-go"] == "skipped"
    assert_cleaned_up(stack, view, [OWNER, VP, LEGAL, "docs@example.com"], by=VP)
    assert events(stack.trail(handle.id), "gate_closed") == []
    assert (await finished(handle)).status == ProcessStatus.CANCELLED


async def test_second_cancel_is_refused(launch: Launch, stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    ended_email = hold_outbox(stack, monkeypatch, lambda channel, subject: subject.endswith(" cancelled"))
    handle = await launch(days_ahead=30)
    await kicked_off(handle)

    first = await handle.start_update(
        LaunchWorkflow.cancel, CancelInput(by=OWNER, reason=REASON), wait_for_stage=WorkflowUpdateStage.ACCEPTED
    )
    await ended_email.has_begun("the first cancel to clean up")
    try:
        refused = await refusal(cancel(handle, by=VP, reason="me too"))
    finally:
        ended_email.release()

    assert refused.type == "Conflict"
    view = await first.result()
    assert view.status == ProcessStatus.CANCELLED and view.outcome == REASON
    [cancelled] = events(stack.trail(handle.id), "cancelled")
    assert cancelled.actor == OWNER
    assert (await finished(handle)).status == ProcessStatus.CANCELLED


@pytest.mark.parametrize("stage", ["checklist", "gate"])
async def test_cancel_through_temporal_runs_the_same_clean_up(launch: Launch, stack: Stack, stage: str) -> None:
    if stage == "checklist":
        handle = await launch(days_ahead=30)
        view = await kicked_off(handle)
    else:
        handle = await launch(days_ahead=2)
        view = await gate_open(handle, stack)

    await handle.cancel()
    result = await finished(handle)

    assert result.status == ProcessStatus.CANCELLED
    assert_cleaned_up(stack, result, [OWNER, VP, LEGAL, SUPPORT, "docs@example.com"], by="temporal")
    assert result.items == view.items
