"""The approval gate as a process runs it: open a round, ask, remind, take decisions, settle, close.

`GatedProcess` is a `workflows.base.ProcessWorkflow` that has a gate; a kind sets
`gate_step` and `request_template` and overrides the hooks it needs —
what a request says (`request_context`), who hears of a decision
(`decision_email`), what else a decision means (`on_decision`), the
moments of its wait (`gate_moments`) and what expiry means
(`gate_expired`). A go / no-go gate runs its rounds as its template says
(`decide_gate`); a kind with rounds of its own (a new version, a draft sent
back) calls `gate_round` once per round.

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
from domain.rules import local_time
from domain.templates import GateTemplate
from domain.updates import DecisionInput, Reminded
from domain.views import ApprovalRecord, ProcessView
from workflows.steps.handovers import GateHandOvers
from workflows.steps.recovery import Recoverable
from workflows.steps.remind_now import RemindNow
from workflows.steps.timers import wait_until

Moment = tuple[datetime, Callable[[], Awaitable[None]]]
"""Something a kind does at a time while its gate waits (the launch's hold on launch day)."""

Planned = tuple[datetime, str, Callable[[], Awaitable[None]]]
"""A moment of a round's wait, keyed so that a round planned again does each one once."""


def standing_in(record: ApprovalRecord) -> str:
    """Who decided, for the messages: "legal@x.com" or "deputy@x.com on behalf of legal@x.com"."""
    return f"{record.approver} on behalf of {record.on_behalf_of}" if record.on_behalf_of else record.approver


class Email(NamedTuple):
    """An email a process sends: its template, its recipients and what the template is filled with."""

    template: str
    to: list[str]
    context: dict[str, Any]


class GatedProcess(GateHandOvers, Recoverable, RemindNow):
    """The gate's updates and steps; the hooks below are what a kind may change."""

    asked_again: str = ""
    """Why the owner asked the approvers again after they rejected the gate (`rejected_gate_held`): every request
    of the new round says it."""

    remind_until: datetime
    """When the open round's reminders stop (a launch's date: an edit that moves it moves this)."""

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

    async def request_decisions(
        self, approvers: list[str], reminder: int = 0, asked: tuple[str, str] | None = None, note: str = ""
    ) -> None:
        """Send each of `approvers` their own link (again, for a reminder); `asked` is the tag and the person of
        a reminder someone asked for (`remind_now`), which is keyed and recorded as theirs. An approver who handed
        their decision on is asked through the person who has it (with the approver's `note` to them)."""
        state = self.gate.state
        assert state.expires_at is not None
        tag, by = asked or ("", "")
        stand_ins = {a: state.delegates[a] for a in approvers if a in state.delegates}  # asked in their place
        said = {"hand_over_note": note} if note else {}
        again = {"asked_again": self.asked_again} if self.asked_again else {}  # (only after an owner's rerun)
        await asyncio.gather(
            *(
                self.outbound.approval_request(
                    state.key, state.round, stand_ins.get(approver, approver), str(workflow.uuid4()),
                    state.expires_at, self.gate_step, reminder=reminder, template=self.request_template, tag=tag,
                    on_behalf_of=approver if approver in stand_ins else None, **self.request_context(approver),
                    **(said if approver in stand_ins else {}), **again,
                )
                for approver in approvers
            )
        )  # fmt: skip
        if not self.drifts("unaudited-requests"):
            action = "approval_reminder" if reminder else "approval_requested"
            details: dict[str, Any] = {"asked_by": by} if by else {}
            if stand_ins:
                details["in_place_of"] = stand_ins
            await self.audit.record(action, step=self.gate_step, round=state.round, approvers=approvers, **details)

    async def await_outcome(self, remind_every_days: int | None, remind_until: datetime) -> None:
        """Wait for the outcome: remind the silent approvers, do the kind's `gate_moments` (and ask the gate's
        backup in place of the silent), then expire.

        The moments are worked out again whenever an edit moves a date (`plan_changes`): those still ahead are
        done at their new times, each once. Until then it starts the timers it always did.
        """
        state = self.gate.state
        assert state.opened_at is not None and state.expires_at is not None
        self.remind_until, done, since = remind_until, set[str](), state.opened_at

        def settled() -> bool:
            return self.gate.decided or self.gate_interrupted()

        while True:
            seen = self.plan_changes

            def settled_or_moved(seen: int = seen) -> bool:
                return settled() or self.plan_changes != seen

            ahead = [m for m in self.round_moments(remind_every_days) if m[1] not in done and m[0] > since]
            if await wait_until(settled_or_moved, ahead[0][0] if ahead else state.expires_at):
                if settled():
                    break
                since = max(since, workflow.now())  # planned again: what the move left behind is not done late
                continue
            if not ahead:
                await self.gate_expired()
                break
            done.add(ahead[0][1])
            await ahead[0][2]()
        if not self.gate.decided and self.gate_interrupted():
            self.gate.close(GateStatus.CLOSED)

    def round_moments(self, remind_every_days: int | None) -> list[Planned]:
        """What the open round does at set times, in time order: the reminders (every `remind_every_days`
        before `remind_until`), the kind's `gate_moments`, and the backup asked in place of the silent."""
        state = self.gate.state
        assert state.opened_at is not None
        moments: list[Planned] = []
        if remind_every_days and not self.drifts("silent-gate"):
            every, moment = timedelta(days=remind_every_days), state.opened_at
            reminders = 0
            while (moment := moment + every) < self.remind_until:
                reminders += 1
                moments.append((moment, f"reminder-{reminders}", partial(self.remind, reminders)))
        moments += [(at, f"moment-{n}", act) for n, (at, act) in enumerate(self.gate_moments())]
        if self.has_backup():  # the gate's, or an approver's own (`GateHandOvers.ask_backup`)
            moments.append((state.opened_at + timedelta(days=self.gate.escalate_after_days), "backup", self.ask_backup))
        return sorted(moments, key=lambda m: m[0])

    async def remind(self, reminder: int) -> None:
        """Ask the approvers who have not decided again (`reminder`: how many times so far)."""
        await self.request_decisions(self.gate.state.waiting_on, reminder=reminder)

    def waiting(self) -> Reminded:
        """The approvers an open round still waits on, besides what the other mixins wait on."""
        waiting, state = super().waiting(), self.gate.state
        if state.status != GateStatus.OPEN or self.gate_interrupted() or not state.waiting_on:
            return waiting
        return waiting.model_copy(update={"gate": state.title, "approvers": state.waiting_on})

    async def remind_waiting(self, waiting: Reminded, tag: str, by: str) -> None:
        """The approvers `waiting` names get their reminder now (their request again, by email, with a new link),
        if the round they were waited on in is still open."""
        state = self.gate.state
        approvers = [a for a in waiting.approvers if a in state.waiting_on] if state.status == GateStatus.OPEN else []
        if approvers:
            await self.request_decisions(approvers, reminder=1, asked=(tag, by))
        await super().remind_waiting(waiting, tag, by)

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
            ),
            *(
                self.outbound.settle_approval_request(
                    state.key, state.round, stand_in, state.key, on_behalf_of=approver, decision=None,
                    gate_title=state.title, gate_status=state.status.value,
                )
                for approver, stand_in in state.delegates.items() if approver in state.waiting_on
            ),
        )  # fmt: skip

    async def decide_gate(
        self, rules: GateTemplate, expiry: Callable[[], datetime], remind_until: Callable[[], datetime], otherwise: str
    ) -> bool:
        """Rounds of the gate until it is approved (True, its step done) or the process ends on it (False).

        A round expires at `expiry()` and reminds the silent until `remind_until()` (the plan's moments: an edit
        may move them between rounds); a round the owner asked for again lasts the gate's `hold_days` at least.
        A rejection goes as the template's ``on_reject`` says: ``owner`` holds the gate for the owner's word
        (`rejected_gate_held`), ``reopen`` asks again at once, ``end`` ends the process rejected, as does a round
        that expires undecided (`otherwise`: why, when nobody decided)."""
        hold = timedelta(days=rules.hold_days)
        expires_at = expiry()
        while True:
            outcome = await self.gate_round(expires_at, rules.remind_every_days, remind_until())
            if outcome == GateStatus.APPROVED:
                self._finish_step(self.gate_step)
                return True
            if outcome == GateStatus.REJECTED and rules.on_reject == "owner":
                if not await self.rejected_gate_held(rules.hold_days, otherwise):
                    return False  # (it has ended)
            elif outcome != GateStatus.REJECTED or rules.on_reject != "reopen" or not self.rounds_follow_the_plan():
                await self.reject(self.gate_step, otherwise)
                return False
            expires_at = expiry() if self.rounds_follow_the_plan() else expires_at
            if self.asked_again:
                expires_at = max(expires_at, workflow.now() + hold)

    def rounds_follow_the_plan(self) -> bool:
        """Whether a round after the first expires as the plan says then, and ``reopen`` asks again (a kind whose
        older processes did otherwise says so; asked only where a rejection may be followed by another round)."""
        return True

    async def rejected_gate_held(self, hold_days: int, otherwise: str) -> bool:
        """A rejected gate held for the owner (the template's ``on_reject: owner``): True when they ask the
        approvers again (the kind opens a new round, their reason in every request); False once the process has
        ended, by the owner's word or, without it within `hold_days`, rejected as without the hold (`otherwise`:
        why, when nobody decided)."""
        state = self.gate.state
        said = "; ".join(f"{d.approver}: {d.comment or d.decision.value}" for d in self.gate.rejections())
        what = f"{state.title} was rejected"
        word = await self.hold_step(self.gate_step, what, said or otherwise, hold_days, skippable=False)
        if word is None:
            await self.reject(self.gate_step, otherwise)
            return False
        if word.action == "end":
            await self.end_held(word, what)
            return False
        self.asked_again = word.reason
        return True

    # ---- decisions ------------------------------------------------------------------

    @workflow.update
    async def decide(self, input: DecisionInput) -> ProcessView:
        """Record an approver's decision and answer with the process as it now is: the page that sent it
        shows that without asking again. Its audit row and messages follow (older processes: before the
        answer)."""
        record = self.gate.record(input, workflow.now())
        self.on_decision(record)
        email, details = self.decision_email(record), self.gate_details()
        if email is not None and record.on_behalf_of:  # every kind's message names who decided, and for whom
            email = email._replace(context=email.context | {"approver": standing_in(record)})
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
        if record.on_behalf_of:
            details = details | {"on_behalf_of": record.on_behalf_of}
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
        at = local_time(record.at, self.input.params.time_zone)
        await self.outbound.settle_approval_request(
            key, record.round, record.approver, key, decision=record.decision.value, via=record.channel.value,
            at=at, comment=record.comment, on_behalf_of=record.on_behalf_of,
        )  # fmt: skip
        other = self.counterpart(record)
        if other is not None:  # the other one asked for this decision: their request shows it was taken
            person, for_whom, who = other
            await self.outbound.settle_approval_request(
                key, record.round, person, key, decision=record.decision.value, via=record.channel.value, at=at,
                comment=record.comment, on_behalf_of=for_whom, who=who,
            )  # fmt: skip

    def counterpart(self, record: ApprovalRecord) -> tuple[str, str | None, str] | None:
        """The other person asked for `record`'s decision, if the approver had handed it on: (who, on whose
        behalf their request was, how their settled request names the decider)."""
        if record.on_behalf_of:
            return record.on_behalf_of, None, f"{record.approver}, on your behalf,"
        stand_in = self.gate.state.delegates.get(record.approver)
        if stand_in is None:
            return None
        return stand_in, record.approver, f"{record.approver} (who had handed it to you)"
