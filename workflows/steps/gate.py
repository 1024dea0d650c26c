"""The approval gate as a process runs it: open a round, ask, remind, take decisions, settle, close.

`GatedProcess` is a `workflows.base.ProcessWorkflow` that has a gate; a kind sets
`gate_step` and `request_template` and overrides the hooks it needs —
what a request says (`request_context`), who hears of a decision
(`decision_email`), what else a decision means (`on_decision`), the
moments of its wait (`gate_moments`) and what expiry means
(`gate_expired`). The kind's own loop of rounds (reopen after a rejection,
a new version, a draft sent back) calls `gate_round` once per round.

A decision is answered as soon as it is in the history: the `decide` update
records it and returns, and its audit row, the owner's email and the chat
edit follow beside the story (`ProcessWorkflow.later`), retried until done.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any, ClassVar, NamedTuple

from temporalio import workflow

from domain.enums import GateStatus, ProcessStatus
from domain.models import ApprovalRecord, DecisionInput, ProcessView
from workflows.base import ProcessWorkflow
from workflows.steps.timers import wait_until

Moment = tuple[datetime, Callable[[], Awaitable[None]]]
"""Something a kind does at a time while its gate waits (the launch's hold on launch day)."""


class Email(NamedTuple):
    """An email a process sends: its template, its recipients and what the template is filled with."""

    template: str
    to: list[str]
    context: dict[str, Any]


class GatedProcess(ProcessWorkflow):
    """The gate's updates and steps; the hooks below are what a kind may change."""

    gate_step: ClassVar[str]
    """The step the gate is (``go-no-go``, ``review``)."""
    request_template: ClassVar[str] = "approval_request"
    """The message asking for a decision (and ``<name>_chat``, its chat twin)."""
    gate_events: ClassVar[tuple[str, str]] = ("gate_opened", "gate_closed")
    """How the trail names a round's opening and closing."""

    # ---- hooks -----------------------------------------------------------------

    def request_context(self, approver: str) -> dict[str, Any]:
        """What `approver`'s request (and each reminder) says besides the gate (may bind it: ``content_hash``)."""
        return {}

    def gate_details(self) -> dict[str, Any]:
        """What the trail adds to a round's and a decision's events (the version under review)."""
        return {}

    async def announce_gate(self) -> None:
        """Say a round is open, before the requests go out."""

    def check_decision(self, input: DecisionInput) -> None:
        """Refuse a decision that must not be recorded (the update's validator)."""
        self.gate.validate(input)

    def on_decision(self, record: ApprovalRecord) -> None:
        """What else a decision means, at once (changes requested hold the round)."""

    def decision_email(self, record: ApprovalRecord) -> Email | None:
        """Who hears of a decision, and what they read."""
        return None

    def gate_moments(self) -> list[Moment]:
        """What happens at set times while a round waits, besides reminders."""
        return []

    def gate_interrupted(self) -> bool:
        """Whether something ends the round without an outcome (a new version under review)."""
        return False

    async def gate_expired(self) -> None:
        """A round reached its expiry without an outcome."""
        self.gate.close(GateStatus.EXPIRED)

    # ---- a round -----------------------------------------------------------------

    async def gate_round(
        self, expires_at: datetime, remind_every_days: int | None, remind_until: datetime | None = None
    ) -> GateStatus:
        """Open a round, ask every approver, wait for the outcome (reminding the silent ones every
        `remind_every_days` before `remind_until`), close it; returns its outcome."""
        state = self.gate.state
        opened, closed = self.gate_events
        self.gate.open(workflow.now(), expires_at)
        self.status = ProcessStatus.WAITING
        await self.audit.record(
            opened, step=self.gate_step, round=state.round, approvers=state.approvers, **self.gate_details()
        )
        await self.announce_gate()
        await self.request_decisions(state.approvers)
        await self.await_outcome(remind_every_days, remind_until or expires_at)
        self.status = ProcessStatus.RUNNING
        await self.audit.record(
            closed, step=self.gate_step, outcome=state.status.value, round=state.round, **self.gate_details()
        )
        if not self.drifts("unsettled-requests"):
            await self.settle_requests()
        return state.status

    async def request_decisions(self, approvers: list[str], reminder: int = 0) -> None:
        """Send each of `approvers` their own link (again, for a reminder)."""
        state = self.gate.state
        assert state.expires_at is not None
        await asyncio.gather(
            *(
                self.outbound.approval_request(
                    state.key, state.round, approver, str(workflow.uuid4()), state.expires_at, self.gate_step,
                    reminder=reminder, template=self.request_template, **self.request_context(approver),
                )
                for approver in approvers
            )
        )  # fmt: skip
        if not self.drifts("unaudited-requests"):
            action = "approval_reminder" if reminder else "approval_requested"
            await self.audit.record(action, step=self.gate_step, round=state.round, approvers=approvers)

    async def await_outcome(self, remind_every_days: int | None, remind_until: datetime) -> None:
        """Wait for the outcome: remind the silent approvers, do the kind's `gate_moments`, then expire."""
        state = self.gate.state
        assert state.opened_at is not None and state.expires_at is not None
        moments: list[Moment] = []
        if remind_every_days and not self.drifts("silent-gate"):
            every, moment = timedelta(days=remind_every_days), state.opened_at
            reminders = 0
            while (moment := moment + every) < remind_until:
                reminders += 1
                moments.append((moment, partial(self.remind, reminders)))
        moments += [(at, act) for at, act in self.gate_moments() if at > state.opened_at]

        def settled() -> bool:
            return self.gate.decided or self.gate_interrupted()

        for moment, act in sorted(moments, key=lambda m: m[0]):
            if await wait_until(settled, moment):
                break
            await act()
        else:
            if not await wait_until(settled, state.expires_at):
                await self.gate_expired()
        if not self.gate.decided and self.gate_interrupted():
            self.gate.close(GateStatus.CLOSED)

    async def remind(self, reminder: int) -> None:
        """Ask the approvers who have not decided again (`reminder`: how many times so far)."""
        await self.request_decisions(self.gate.state.waiting_on, reminder=reminder)

    async def settle_requests(self) -> None:
        """Take the buttons off the chat requests of approvers who did not decide in this round."""
        state = self.gate.state
        await asyncio.gather(
            *(
                self.outbound.settle_approval_request(
                    state.key, state.round, approver, state.key, decision=None, gate_title=state.title,
                    gate_status=state.status.value,
                )
                for approver in state.waiting_on
            )
        )  # fmt: skip

    # ---- decisions ------------------------------------------------------------------

    @workflow.update
    async def decide(self, input: DecisionInput) -> ProcessView:
        """Record an approver's decision and answer with the process as it now is: the page that sent it
        shows that without asking again. Its audit row and messages follow (older processes: before the
        answer)."""
        record = self.gate.record(input, workflow.now())
        self.on_decision(record)
        email, details = self.decision_email(record), self.gate_details()
        if self.legacy:
            await self.after_decision(record, email, details)
        else:
            self.later(self.after_decision(record, email, details))
        return self.view()

    @decide.validator
    def _check_decision(self, input: DecisionInput) -> None:
        self.check_decision(input)

    async def after_decision(self, record: ApprovalRecord, email: Email | None, details: dict[str, Any]) -> None:
        """The trail, the owner told, and the approver's chat request showing what they decided.

        One after the other, the trail's row first: the workflow task that answers the click then carries
        one command of its own, and the answer leaves sooner (`workflows.base.LIGHTER_TASKS`).
        """
        key = self.gate.state.key
        await self.audit.record(
            "decision", actor=record.approver, channel=record.channel, step=key, decision=record.decision.value,
            comment=record.comment, round=record.round, **details, token_id=record.token_id,
        )  # fmt: skip
        if self.lighter_tasks:
            await self.audit.stored()
        if email is not None:
            await self.outbound.email(
                f"decision:{key}:{record.round}:{record.approver}", email.template, email.to, key, **email.context
            )
        await self.outbound.settle_approval_request(
            key, record.round, record.approver, key, decision=record.decision.value, via=record.channel.value,
            at=f"{record.at:%Y-%m-%d %H:%M} UTC", comment=record.comment,
        )  # fmt: skip
