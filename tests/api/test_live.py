"""A view is asked for, and an update sent, only once no workflow task of the process is pending (`api.live`):
the time-skipping test server the other tests run on never reports a pending task, so a stand-in for a workflow
handle plays Temporal's answers to ``describe`` here."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from temporalio.api.enums.v1 import PendingWorkflowTaskState
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionResponse

from api.live import live_view, no_task_pending
from domain.enums import ProcessStatus
from domain.models import ProcessView

SCHEDULED = PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_SCHEDULED
STARTED = PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_STARTED
VIEW = ProcessView(id="launch-x", kind="launch", title="X", status=ProcessStatus.RUNNING, owner="pm@x.com",
                   params={}, steps=[])  # fmt: skip


class Handle:
    """Answers ``describe`` with the pending workflow task states it is given (None: no task), one per call,
    the last again and again; records what it was asked, in order."""

    def __init__(self, *states: int | None) -> None:
        self.states = list(states)
        self.asked: list[str] = []

    async def describe(self, rpc_timeout: timedelta | None = None) -> Any:
        self.asked.append("describe")
        state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        raw = DescribeWorkflowExecutionResponse()
        if state is not None:
            raw.pending_workflow_task.state = state  # type: ignore[assignment]
        return SimpleNamespace(raw_description=raw)

    async def query(self, name: str, result_type: Any = None, rpc_timeout: timedelta | None = None) -> ProcessView:
        self.asked.append(f"query {name}")
        return VIEW


async def test_a_pending_task_holds_the_query_back_until_a_worker_has_done_it() -> None:
    handle = Handle(SCHEDULED, STARTED, None)

    view = await live_view(handle, timedelta(seconds=5))  # type: ignore[arg-type]

    assert view == VIEW
    assert handle.asked == ["describe", "describe", "describe", "query view"]


async def test_with_no_task_pending_the_query_goes_at_once() -> None:
    handle = Handle(None)
    await live_view(handle, timedelta(seconds=5))  # type: ignore[arg-type]
    assert handle.asked == ["describe", "query view"]


@pytest.mark.parametrize("state", [SCHEDULED, STARTED], ids=["never taken", "taken by a worker now dead"])
async def test_a_task_that_stays_pending_is_a_timeout_and_no_query_is_sent(state: int) -> None:
    handle = Handle(state)

    with pytest.raises(TimeoutError):
        await live_view(handle, timedelta(seconds=0.4))  # type: ignore[arg-type]

    assert "query view" not in handle.asked
    assert handle.asked.count("describe") >= 3  # it kept looking, backing off


async def test_no_task_pending_returns_once_the_waiting_task_is_started() -> None:
    handle = Handle(SCHEDULED, None)
    await no_task_pending(handle, timedelta(seconds=5))  # type: ignore[arg-type]
    assert handle.asked == ["describe", "describe"]
