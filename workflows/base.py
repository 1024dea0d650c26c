"""The workflows' base class: what every process does the same way.

Its steps and status, the audit trail and the sends, a run that cleans up
when cancelled, the `cancel`, `resend` and `remind_now` updates, the end
(rejected or cancelled) and the line the process list shows. The approval gate and the tracked checklist
are mixins beside it (`workflows.steps.gate`, `workflows.steps.checklist`).

A process class derives from `ProcessWorkflow`, sets it up in its
``@workflow.init`` with `begin`, runs its story through `run_body`, and
writes only what is its own: `tell_ended` (who hears of an early end, what
is closed) and `view`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import datetime
from typing import Any, ClassVar

from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import TemporalError, is_cancelled_exception

from domain.audit import ProcessSummary
from domain.enums import Channel, GateStatus, ProcessStatus, StepStatus
from domain.errors import Conflict
from domain.kinds import KINDS
from domain.rules import at_hour
from domain.updates import CancelInput, Reminded, ResendInput
from domain.views import PlannedMoment, ProcessView, StepView, UndeliveredMessage
from domain.words import received
from workflows.steps.approval import ApprovalGate
from workflows.steps.audit import AuditTrail
from workflows.steps.checklist import Checklist
from workflows.steps.outbound import Outbound
from workflows.steps.refusal import refuse

WRITTEN_ONCE = "workflow-core-once"
"""The patch of #11: the gate, the checklist and the lifecycle written once, decisions answered at once.

A process that started before it replays with its kind's old ways, listed in
`ProcessWorkflow.drift`; one started after it behaves the same as every kind.
"""


TAKES = {
    "mark_item_done": "checklist items",
    "issue_done": "checklist items",
    "decide": "decisions",
    "revise": "revisions",
    "add_action_items": "action items",
}
"""What each update carries, to say what a kind without it does not take."""

AUDIT_IN_BATCHES = "audit-in-batches"
"""The patch that writes the audit trail beside the story, in batches (`workflows.steps.audit.AuditTrail`)."""


LIGHTER_TASKS = "lighter-workflow-tasks"
"""The patch that makes workflow tasks lighter: sends that do not wait on each other go out together (a request's
email and chat post, a message's chat channels: `Outbound.together`), and a decision's follow-ups start with its
audit row alone, so the task that answers the click carries one command of its own. It stands for the two patches
above as well: a new run records one patch marker (and one search-attribute write) instead of two.
"""


class ProcessWorkflow:
    """The shared life of a process; subclasses are the four kinds."""

    kind: ClassVar[str]
    noun: ClassVar[str] = "process"
    """How refusals name it: "the launch is already cancelled"."""
    drift: ClassVar[frozenset[str]] = frozenset()
    """How this kind differed from the others before `WRITTEN_ONCE`; kept only for processes started before it."""

    input: Any
    gate: ApprovalGate

    def begin(self, title: str, owner: str, gate: ApprovalGate, context: dict[str, Any]) -> None:
        """Set up the state every process has; call first in ``@workflow.init``.

        `context` is merged into every message the process sends, with the process's time zone (the
        activities show a link's expiry in it).
        """
        self.id = workflow.info().workflow_id
        self.title = title
        self.owner = owner
        self.status = ProcessStatus.RUNNING
        self.outcome: str | None = None
        self.steps = {key: StepView(key=key, title=title) for key, title in KINDS[self.kind].steps.items()}
        self.gate = gate
        self.audit = AuditTrail(self.summary, batched=lambda: self.audit_in_batches, view=self.view)
        zone = {"time_zone": self.input.params.time_zone} if self.input.params.time_zone else {}
        self.outbound = Outbound(self.id, self.audit, {"process_id": self.id} | context | zone, owner=owner)
        self.cancel_request: CancelInput | None = None
        self.started_recorded = False
        """The trail's ``started`` is written (or queued, in batches): what a signal's work waits for."""
        self.wound_down = False
        self.legacy = False
        self.audit_in_batches = False
        self.lighter_tasks = False
        self._body: asyncio.Task[None] | None = None
        self._later: list[asyncio.Task[None]] = []

    def drifts(self, way: str) -> bool:
        """Whether this process still goes `way` (one of `drift`): it started before the core was written once."""
        return self.legacy and way in self.drift

    async def run_body(
        self,
        body: Callable[[], Coroutine[Any, Any, None]],
        on_cancel: Callable[[CancelInput], Awaitable[None]] | None = None,
    ) -> ProcessView:
        """Run the story; a cancellation at any point (the `cancel` update, or Temporal's own) runs `on_cancel`
        (by default `wind_down` as cancelled). Returns once every handler and follow-up is done."""
        if workflow.patched(LIGHTER_TASKS):
            self.legacy, self.audit_in_batches, self.lighter_tasks = False, True, True
            self.outbound.side_by_side = True
        else:
            self.legacy = not workflow.patched(WRITTEN_ONCE)
            self.audit_in_batches = not self.legacy and workflow.patched(AUDIT_IN_BATCHES)
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
            elif on_cancel is not None:
                await on_cancel(self.cancel_request or CancelInput(by="temporal"))
            else:
                await self.wind_down(ProcessStatus.CANCELLED, self.cancel_request or CancelInput(by="temporal"))
        await workflow.wait_condition(
            lambda: workflow.all_handlers_finished() and all(t.done() for t in self._later) and self.audit.written
        )
        for task in self._later:
            task.result()  # a follow-up that failed is a bug: fail the workflow task, do not hide it
        return self.view()

    def later(self, work: Coroutine[Any, Any, None]) -> None:
        """Do `work` beside the story (a decision's audit row and messages): the process ends only after it."""
        self._later.append(asyncio.create_task(work))

    @workflow.query
    def settling(self) -> int:
        """How much is still under way beside the story: decisions' follow-ups, and the audit trail's writes."""
        return sum(not task.done() for task in self._later) + (not self.audit.written)

    # ---- cancel --------------------------------------------------------------

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

    # ---- resend ----------------------------------------------------------------

    @workflow.update
    async def resend(self, input: ResendInput) -> UndeliveredMessage:
        """Deliver again a message that could not be delivered; answers at once, the send goes on beside the
        story (an outage may hold it for hours) and the process page shows how it went."""
        message = self.outbound.start_resend(input.key)
        self.later(self.outbound.resend(input.key, input.by, input.channel))
        return message

    @resend.validator
    def _check_resend(self, input: ResendInput) -> None:
        if self.status.finished:
            raise refuse(Conflict(f"the {self.noun} is {self.status.value}: it sends nothing any more"))
        refusal = self.outbound.resend_refusal(input.key)
        if refusal:
            raise refuse(refusal)

    async def record_started(self, **details: Any) -> None:
        """The trail's first event: who started the process, through which channel, with which parameters."""
        await self.audit.record(
            "started", actor=self.input.requested_by, channel=self.input.requested_via,
            params=self.input.params.model_dump(mode="json"), **details,
        )  # fmt: skip
        self.started_recorded = True

    # ---- remind now: workflows/steps/remind_now.py (RemindNow) sends; these say whom -------------

    def waiting(self) -> Reminded:
        """Who the process waits on now; the gate's and the checklist's mixins add theirs."""
        return Reminded()

    async def remind_waiting(self, waiting: Reminded, tag: str, by: str) -> None:
        """Send the reminders of `waiting` (keyed by `tag`, asked for by `by`); each mixin sends its own."""

    @workflow.update(dynamic=True)
    async def other_update(self, name: str, args: Sequence[RawValue]) -> None:
        """An update this kind does not take (a revision of a launch): its validator refuses it, typed."""

    @other_update.validator
    def _refuse_other_update(self, name: str, args: Sequence[RawValue]) -> None:
        raise refuse(Conflict(f"process {self.id} is a {self.kind}: it takes no {TAKES.get(name, name)}"))

    # ---- the end -----------------------------------------------------------------

    async def finish(
        self, outcome: str, step: str, status: ProcessStatus = ProcessStatus.COMPLETED, **details: Any
    ) -> None:
        """End the story as `status` with `outcome`: what decisions set going is done first, so the trail
        ends with this event."""
        if not all(task.done() for task in self._later):  # (never for a process from before them: no yield)
            await workflow.wait_condition(lambda: all(task.done() for task in self._later))
        self.status, self.outcome = status, outcome
        await self.audit.record(status.value, step=step, **details)

    # ---- the end, early --------------------------------------------------------

    async def reject(self, step: str, otherwise: str) -> None:
        """End as rejected at `step`, saying who said no and why (or `otherwise`, when nobody decided)."""
        self._finish_step(step, StepStatus.FAILED)
        reasons = [f"{d.approver}: {d.comment or d.decision.value}" for d in self.gate.rejections()]
        reason = "; ".join(reasons) or otherwise
        await self.wind_down(ProcessStatus.REJECTED, CancelInput(by="", reason=reason, channel=Channel.SYSTEM))

    async def wind_down(self, status: ProcessStatus, why: CancelInput) -> None:
        """End early (rejected or cancelled): record it, take the buttons off unanswered requests, and
        `tell_ended`."""
        self.status = status
        self.outcome = why.reason or status.value
        self.end_steps(status)
        gate_was_open = self.gate.state.status == GateStatus.OPEN
        self.gate.close(GateStatus.CLOSED)
        action = "cancelled" if status == ProcessStatus.CANCELLED else "rejected"
        await self.audit.record(action, actor=why.by or "signoff", channel=why.channel, reason=why.reason)
        if gate_was_open and not self.drifts("unsettled-requests"):
            await self.settle_requests()
        await self.tell_ended(action, why)
        self.wound_down = True

    async def settle_requests(self) -> None:
        """Take the buttons off the chat requests still unanswered (the gate's mixin)."""
        raise NotImplementedError

    async def tell_ended(self, action: str, why: CancelInput) -> None:
        """Tell the people involved that the process ended early (`action`: cancelled or rejected), close
        what it opened."""
        raise NotImplementedError

    def end_steps(self, status: ProcessStatus) -> None:
        """Mark what did not get done: the active step failed (rejected) or skipped (cancelled), the rest skipped."""
        for step in self.steps.values():
            if step.status == StepStatus.ACTIVE:
                step.status = StepStatus.FAILED if status == ProcessStatus.REJECTED else StepStatus.SKIPPED
            elif step.status == StepStatus.PENDING:
                step.status = StepStatus.SKIPPED

    # ---- what users see ------------------------------------------------------

    def view(self) -> ProcessView:
        """The process as users see it (each kind's `@workflow.query`, built with `process_view`)."""
        raise NotImplementedError

    def process_view(self, **own: Any) -> ProcessView:
        """The view every kind shares, with the kind's `own` fields (items, links, content …)."""
        return ProcessView(
            id=self.id,
            kind=self.kind,
            title=self.title,
            status=self.status,
            owner=self.owner,
            params=self.input.params.model_dump(mode="json"),
            steps=list(self.steps.values()),
            gates=[self.gate.state],
            approvals=list(self.gate.state.decisions),
            outcome=self.outcome,
            recorded_events=self.audit.recorded,
            undelivered=self.outbound.undelivered,
            plan=sorted(self.plan(), key=lambda moment: moment.at),
            **own,
        )

    def plan(self) -> list[PlannedMoment]:
        """The kind's dated moments (a gate opening, launch day, milestones), for the calendar and "next"."""
        return []

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
        gate = self.gate
        deadlines: list[datetime] = []
        text = None
        if checklist is not None and checklist.items:
            items = list(checklist.items.values())
            resolved = sum(item.status != "open" for item in items)
            text = f"{resolved} of {len(items)} item{'s' if len(items) != 1 else ''} done"
            hour, zone = self.input.template.notify_hour_utc, self.input.params.time_zone
            deadlines += [at_hour(item.due, hour, zone) for item in checklist.open_items()]
        if gate.state.status == GateStatus.OPEN:
            if text is None:
                required = gate.state.required
                text = received(gate.approvals, required)
            if gate.state.expires_at:
                deadlines.append(gate.state.expires_at)
        return text, min(deadlines, default=None)

    def _start_step(self, key: str) -> None:
        self.steps[key].status, self.steps[key].at = StepStatus.ACTIVE, workflow.now()

    def _finish_step(self, key: str, status: StepStatus = StepStatus.DONE) -> None:
        self.steps[key].status, self.steps[key].at = status, workflow.now()
