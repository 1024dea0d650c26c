"""Running the processes on Temporal's time-skipping test server without stranding them (`workers.preview`).

The test server strands a run whose workflow task cancels a timer that fired while the task was with the
worker: it refuses the completion ("invalid history builder state for action", temporalio/sdk-java#3088)
and never times the task out or sends it again. A real server answers the same completion by sending the
task again with the timer's event. On the test server it happens whenever two of a process's timers fall
due at the same moment and the first one's step cancels the second: an end of life's shutdown (09:00)
adds its tasks, which makes the reminders' schedule be worked out again and cancels the reminder timer
due at the same 09:00. Each timer starts a few milliseconds after the moment it was set for (the workflow
task's own time), so the second fires while the first one's task is with the worker.

`TimerRaceGuard` runs the workflows as the worker's own runner does, and does for them what a real server
would: a task that would cancel a timer due by now fails instead, once that timer's moment has passed on
the server's clock (which runs at real pace while a task is out), so the server sends the task again with
the timer's event in it, and the process takes the fired timer as it would have on a real server. Only for
previews: the process's code is the same, and a real server never needs this.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import temporalio.workflow
from temporalio.bridge.proto.workflow_activation import WorkflowActivation
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion
from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails, WorkflowRunner

DUE_WITHIN = timedelta(seconds=2)
"""A timer cancelled this close to its moment (on the server's clock) may have fired already."""
WAIT_AT_MOST = 3.0
"""The longest (real seconds) a task waits for such a timer's moment to pass before it fails."""


class TimerRaceGuard(WorkflowRunner):
    """`inner`, with every instance's timer cancellations guarded (see the module's docstring)."""

    def __init__(self, inner: WorkflowRunner) -> None:
        self.inner = inner

    def prepare_workflow(self, defn: temporalio.workflow._Definition) -> None:
        self.inner.prepare_workflow(defn)

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return _Guarded(self.inner.create_instance(det))

    def set_worker_level_failure_exception_types(self, types: Sequence[type[BaseException]]) -> None:
        self.inner.set_worker_level_failure_exception_types(types)


class _Guarded(WorkflowInstance):
    """One run: its timers' moments as started, and the check of each task's cancellations."""

    def __init__(self, inner: WorkflowInstance) -> None:
        self.inner = inner
        self.due: dict[int, datetime] = {}

    def activate(self, act: WorkflowActivation) -> WorkflowActivationCompletion:
        began = time.monotonic()
        completion = self.inner.activate(act)
        now = act.timestamp.ToDatetime()
        for job in act.jobs:
            if job.HasField("fire_timer"):
                self.due.pop(job.fire_timer.seq, None)
        if not completion.HasField("successful"):
            return completion
        risky: datetime | None = None
        for command in completion.successful.commands:
            if command.HasField("start_timer"):
                self.due[command.start_timer.seq] = now + command.start_timer.start_to_fire_timeout.ToTimedelta()
            elif command.HasField("cancel_timer"):
                due = self.due.pop(command.cancel_timer.seq, None)
                if due is not None and due <= now + DUE_WITHIN and not act.is_replaying:
                    risky = max(due, risky or due)
        if risky is None:
            return completion
        # Wait until the server's clock (real pace while the task is out) is past the timer's moment, so the
        # task sent again carries the fired timer; then fail this one.
        passed = time.monotonic() - began
        time.sleep(min(WAIT_AT_MOST, max(0.0, (risky - now).total_seconds() - passed) + 0.1))
        failed = WorkflowActivationCompletion(run_id=act.run_id)
        failed.failed.failure.message = "a timer this task cancels may have fired meanwhile: the task again, with it"
        return failed

    def get_serialization_context(self, command_info: Any) -> Any:
        return self.inner.get_serialization_context(command_info)

    def get_external_store_context(self, command_info: Any) -> Any:
        return self.inner.get_external_store_context(command_info)

    def get_info(self) -> temporalio.workflow.Info:
        return self.inner.get_info()

    def get_thread_id(self) -> int | None:
        return self.inner.get_thread_id()
