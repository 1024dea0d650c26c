"""A view is asked for, and an update sent, only once no workflow task of the process is pending (`api.live`):
the time-skipping test server the other tests run on never reports a pending task, so a stand-in for a workflow
handle plays Temporal's answers to ``describe`` here, under `live_view` and under the service's updates."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from temporalio.api.enums.v1 import PendingWorkflowTaskState
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionResponse

from api.live import FAILING_FROM_ATTEMPT, live_view, no_task_pending
from api.service import Processes
from config.templates import load_template
from domain.enums import Channel, Decision, ProcessStatus
from domain.errors import Unavailable
from domain.updates import DecisionInput
from domain.views import ProcessView

SCHEDULED = (PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_SCHEDULED, 1)
STARTED = (PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_STARTED, 1)
RETRIED = (PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_SCHEDULED, 2)  # a dead worker's task, again
FAILING = (PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_SCHEDULED, FAILING_FROM_ATTEMPT)
VIEW = ProcessView(id="launch-x", kind="launch", title="X", status=ProcessStatus.RUNNING, owner="pm@x.com",
                   params={}, steps=[])  # fmt: skip
DECISION = DecisionInput(gate="go-no-go", round=1, approver="vp@x.com", decision=Decision.APPROVE,
                         channel=Channel.API)  # fmt: skip


class Handle:
    """Answers ``describe`` with the pending workflow tasks it is given ((state, attempt), or None: no task), one
    per call, the last again and again; records what it was asked, in order."""

    def __init__(self, *pending: tuple[int, int] | None) -> None:
        self.pending = list(pending)
        self.asked: list[str] = []

    async def describe(self, rpc_timeout: timedelta | None = None) -> Any:
        self.asked.append("describe")
        task = self.pending.pop(0) if len(self.pending) > 1 else self.pending[0]
        raw = DescribeWorkflowExecutionResponse()
        if task is not None:
            raw.pending_workflow_task.state, raw.pending_workflow_task.attempt = task  # type: ignore[assignment]
        return SimpleNamespace(raw_description=raw)

    async def query(self, name: str, result_type: Any = None, rpc_timeout: timedelta | None = None) -> ProcessView:
        self.asked.append(f"query {name}")
        return VIEW

    async def execute_update(self, name: str, arg: Any, **_: Any) -> ProcessView:
        self.asked.append(f"update {name}")
        return VIEW


def service(handle: Handle, patience: float = 5) -> Processes:
    client = SimpleNamespace(get_workflow_handle=lambda process_id: handle)
    return Processes(client, "q", load_template, patience=timedelta(seconds=patience))  # type: ignore[arg-type]


async def test_a_pending_task_holds_the_query_back_until_a_worker_has_done_it() -> None:
    handle = Handle(SCHEDULED, STARTED, RETRIED, None)

    view = await live_view(handle, timedelta(seconds=5))  # type: ignore[arg-type]

    assert view == VIEW
    assert handle.asked == ["describe", "describe", "describe", "describe", "query view"]


@pytest.mark.parametrize("task", [None, FAILING], ids=["no task", "a task failing again and again"])
async def test_with_no_task_pending_or_one_that_keeps_failing_the_query_goes_at_once(task: Any) -> None:
    handle = Handle(task)
    await live_view(handle, timedelta(seconds=5))  # type: ignore[arg-type]
    assert handle.asked == ["describe", "query view"]


@pytest.mark.parametrize("task", [SCHEDULED, STARTED], ids=["never taken", "taken by a worker now dead"])
async def test_a_task_that_stays_pending_is_a_timeout_and_no_query_is_sent(task: Any) -> None:
    handle = Handle(task)

    with pytest.raises(TimeoutError):
        await live_view(handle, timedelta(seconds=0.4))  # type: ignore[arg-type]

    assert "query view" not in handle.asked
    assert handle.asked.count("describe") >= 3  # it kept looking, backing off


async def test_no_task_pending_returns_once_the_task_is_done() -> None:
    handle = Handle(STARTED, None)
    await no_task_pending(handle, timedelta(seconds=5))  # type: ignore[arg-type]
    assert handle.asked == ["describe", "describe"]


async def test_the_services_update_waits_for_the_pending_task_then_goes() -> None:
    handle = Handle(SCHEDULED, STARTED, None)

    await service(handle).decide("launch-x", DECISION)

    assert handle.asked == ["describe", "describe", "describe", "update decide"]


async def test_the_services_update_is_a_503_when_the_task_stays_pending_and_nothing_is_sent() -> None:
    handle = Handle(SCHEDULED)

    with pytest.raises(Unavailable, match=r"did not answer in time .* try again"):
        await service(handle, patience=0.4).decide("launch-x", DECISION)

    assert "update decide" not in handle.asked


async def test_the_services_page_shows_the_live_view_once_the_task_is_done() -> None:
    handle = Handle(STARTED, None)
    assert await service(handle).view("launch-x") == VIEW
    assert handle.asked == ["describe", "describe", "query view"]
