"""What every process does the same way: its steps, its status, a run that cleans up when cancelled,
the `cancel` update, and the line the process list shows.

A workflow class derives from `ProcessWorkflow`, sets it up in its
``@workflow.init`` with `begin`, and runs its story through `run_body`; it
writes its own `wind_down` (who to tell, what to close) and `view`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime, time
from typing import Any, ClassVar

from temporalio import workflow
from temporalio.exceptions import TemporalError, is_cancelled_exception

from domain.audit import ProcessSummary
from domain.enums import GateStatus, ProcessStatus, StepStatus
from domain.errors import Conflict
from domain.kinds import KINDS
from domain.models import CancelInput, ProcessView, StepView
from workflows.steps.approval import ApprovalGate
from workflows.steps.checklist import Checklist
from workflows.steps.refusal import refuse


class ProcessWorkflow:
    """The shared life of a process; subclasses are the four kinds."""

    kind: ClassVar[str]
    noun: ClassVar[str] = "process"
    """How refusals name it: "the launch is already cancelled"."""

    def begin(self, title: str, owner: str) -> None:
        """Set up the state every process has; call first in ``@workflow.init``."""
        self.id = workflow.info().workflow_id
        self.title = title
        self.owner = owner
        self.status = ProcessStatus.RUNNING
        self.outcome: str | None = None
        self.steps = {key: StepView(key=key, title=title) for key, title in KINDS[self.kind].steps.items()}
        self.cancel_request: CancelInput | None = None
        self.wound_down = False
        self._body: asyncio.Task[None] | None = None

    async def run_body(
        self, body: Callable[[], Coroutine[Any, Any, None]], on_cancel: Callable[[CancelInput], Awaitable[None]]
    ) -> ProcessView:
        """Run the story; a cancellation at any point (the `cancel` update, or Temporal's own) runs `on_cancel`."""
        self._body = asyncio.create_task(body())
        try:
            await self._body
        except (asyncio.CancelledError, TemporalError) as err:
            # Cancelling the body while it awaits an activity or a child surfaces as
            # that activity's or child's error, caused by the cancellation; anything else is a bug.
            if not is_cancelled_exception(err):
                raise
            if self.status.finished:  # it ended just as the cancel came: nothing left to clean up
                self.wound_down = True
            else:
                await on_cancel(self.cancel_request or CancelInput(by="temporal"))
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.view()

    @workflow.update
    async def cancel(self, input: CancelInput) -> ProcessView:
        """Cancel the process; returns once its clean-up has run."""
        self.cancel_request = input
        await workflow.wait_condition(lambda: self._body is not None)
        assert self._body is not None
        self._body.cancel()
        await workflow.wait_condition(lambda: self.wound_down)
        return self.view()

    @cancel.validator
    def _check_cancel(self, input: CancelInput) -> None:
        if self.status.finished:
            raise refuse(Conflict(f"the {self.noun} is already {self.status.value}"))
        if self.cancel_request:
            raise refuse(Conflict(f"the {self.noun} is already being cancelled"))
        refusal = self.cancel_refusal()
        if refusal:
            raise refuse(Conflict(refusal))

    def cancel_refusal(self) -> str | None:
        """Why this process cannot be cancelled now, if it cannot (a message being sent)."""
        return None

    def end_steps(self, status: ProcessStatus) -> None:
        """Mark what did not get done: the active step failed (rejected) or skipped (cancelled), the rest skipped."""
        for step in self.steps.values():
            if step.status == StepStatus.ACTIVE:
                step.status = StepStatus.FAILED if status == ProcessStatus.REJECTED else StepStatus.SKIPPED
            elif step.status == StepStatus.PENDING:
                step.status = StepStatus.SKIPPED

    def view(self) -> ProcessView:
        """The process as users see it (each kind's `@workflow.query`)."""
        raise NotImplementedError

    def summary(self) -> ProcessSummary:
        """The one line the process list shows, with how far it is and what is due next."""
        progress, deadline = self.progress()
        return ProcessSummary(
            id=self.id,
            kind=self.kind,
            title=self.title,
            owner=self.owner,
            status=self.status,
            progress=progress,
            next_deadline=None if self.status.finished else deadline,
        )

    def progress(self) -> tuple[str | None, datetime | None]:
        """Items done (or approvals given, for a process without items) and the next thing due."""
        checklist: Checklist | None = getattr(self, "checklist", None)
        gate: ApprovalGate | None = getattr(self, "gate", None)
        deadlines: list[datetime] = []
        text = None
        if checklist is not None and checklist.items:
            items = list(checklist.items.values())
            resolved = sum(item.status != "open" for item in items)
            text = f"{resolved} of {len(items)} item{'s' if len(items) != 1 else ''} done"
            hour = time(_hour(self), tzinfo=UTC)
            deadlines += [datetime.combine(item.due, hour) for item in checklist.open_items()]
        if gate is not None and gate.state.status == GateStatus.OPEN:
            if text is None:
                required = gate.state.required
                text = f"{gate.approvals} of {required} approval{'s' if required != 1 else ''}"
            if gate.state.expires_at:
                deadlines.append(gate.state.expires_at)
        return text, min(deadlines, default=None)

    def _start_step(self, key: str) -> None:
        self.steps[key].status, self.steps[key].at = StepStatus.ACTIVE, workflow.now()

    def _finish_step(self, key: str, status: StepStatus = StepStatus.DONE) -> None:
        self.steps[key].status, self.steps[key].at = status, workflow.now()


def _hour(process: object) -> int:
    """The hour of the day a process acts on a date (its template's `notify_hour_utc`)."""
    template = getattr(getattr(process, "input", None), "template", None)
    return int(getattr(template, "notify_hour_utc", 9))
