"""Cancelling a launch while one of its messages is still going out.

These tests cancel an activity that is running. Doing that has been seen to
hold the time-skipping test server's clock still for a while afterwards,
which stalls whatever test comes next, so this module runs on a test server
of its own.
"""

from __future__ import annotations

import asyncio

import pytest
from temporalio.client import WorkflowUpdateStage

from domain.enums import ProcessStatus
from domain.updates import CancelInput
from tests.conftest import Stack
from tests.workflows.helpers import OWNER, Launch, events, eventually, finished, hold_outbox
from workflows.launch import LaunchWorkflow


async def has_chat(stack: Stack, process_id: str) -> bool:
    return any(o.channel == "chat" for o in stack.outbox(process_id))


@pytest.mark.parametrize("how", ["update", "temporal"])
async def test_cancel_while_a_message_is_going_out(
    launch: Launch, stack: Stack, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    kickoff_chat = hold_outbox(stack, monkeypatch, lambda channel, subject: channel == "chat")
    ended_email = hold_outbox(stack, monkeypatch, lambda channel, subject: subject.endswith(" cancelled"))
    handle = await launch(days_ahead=30)
    await kickoff_chat.has_begun("the kickoff chat post")  # Slack is slow to answer today

    if how == "update":
        cancelling = await handle.start_update(
            LaunchWorkflow.cancel, CancelInput(by=OWNER), wait_for_stage=WorkflowUpdateStage.ACCEPTED
        )
    else:
        await handle.cancel()
    try:
        await ended_email.has_begun("the clean-up to tell everyone", timeout=5)
    finally:
        # Slack answers while the launch is still open, whatever the outcome.
        kickoff_chat.release()
        await eventually(lambda: has_chat(stack, handle.id), "the kickoff chat post to be written")
        ended_email.release()
    if how == "update":
        assert (await asyncio.wait_for(cancelling.result(), 15)).status == ProcessStatus.CANCELLED
    result = await finished(handle)

    assert result.status == ProcessStatus.CANCELLED
    trail = stack.trail(handle.id)
    assert len(events(trail, "cancelled")) == 1
    assert events(trail, "reminder") == [] and events(trail, "gate_opened") == []
