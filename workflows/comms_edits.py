"""A message's edits: its send time moved by the `edit` update, and its reviewers changed by its parent.

`MessageEdits` adds to `workflows.comms.CommsWorkflow` the part of `workflows.steps.edits.EditableProcess`'s hooks
that moves ``send_at`` (the wait for the send plans again, `plan_changes`; the owner and the reviewers hear of it),
the rule that a review over keeps its reviewers, and the `edit_passed_on` signal by which an end of life's change
of approvers reaches its customer notices (`workflows.eol_notices.CustomerNotices.pass_on`).
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from domain.comms import CommsInput
from domain.edits import Change, EditInput
from domain.enums import StepStatus
from domain.errors import Conflict, InvalidField, SignoffError
from domain.rules import local_time
from workflows.steps.edits import FollowUp
from workflows.steps.gate import GatedProcess
from workflows.steps.refusal import refuse


class MessageEdits(GatedProcess):
    """A message's edits: its send time, its reviewers from its parent."""

    input: CommsInput
    sending: bool
    """The message is being sent (the message says): its send time no longer moves."""

    def send_time(self) -> datetime:
        """When the message goes out, as last planned (an edit may move it)."""
        assert self.input.params.send_at is not None
        return self.input.params.send_at

    def editable(self) -> set[str]:
        """The send time, besides the reviewers."""
        return super().editable() | {"send_at"}

    def edit_changes(self, input: EditInput) -> list[Change]:
        """A new send time: refused in the past, unchanged, or once the message is being sent."""
        changes, new, old = super().edit_changes(input), input.send_at, self.input.params.send_at
        if new is None:
            return changes
        if self.sending or self.steps["send"].status != StepStatus.PENDING:
            raise refuse(Conflict("the message is being sent: its send time can no longer move"))
        if new <= workflow.now():
            raise refuse(InvalidField("send_at", f"{new.isoformat()} is in the past"))
        if new == old:
            raise refuse(InvalidField("send_at", f"the message goes out at {new.isoformat()} already"))
        zone = self.input.params.time_zone
        before = local_time(old, zone) if old else "as soon as it is approved"
        sentence = f"the message goes out at {local_time(new, zone)} instead of {before}"
        return [*changes, Change(what="send_at", before=old.isoformat() if old else None, after=new.isoformat(),
                                 sentence=sentence)]  # fmt: skip

    def edit_refusal(self, input: EditInput) -> SignoffError | None:
        """A review that is over keeps its reviewers, approved or never needed (a reminder of an approved notice,
        `preapproved`): a new one would be asked to decide a review that never opens."""
        refusal = super().edit_refusal(input)
        if refusal is None and "approvers" in input.named() and self.steps["review"].status == StepStatus.DONE:
            return Conflict(f"the {self.noun}'s review is over: its reviewers no longer change")
        return refusal

    @workflow.signal
    async def edit_passed_on(self, input: EditInput) -> None:
        """A change of approvers passed on by the end of life whose customer notice this is: made as the `edit`
        update makes it, once this message's start is in its trail, or, where it may not take it now (its review
        over, sent, ended), refused in its trail with why. Only a message with a parent takes it, and only its
        approvers. A signal, not an update: the parent's history holds it, so it is passed on once, a crash or
        not. Its checks run on replay (`EditableProcess.edit_refusal` says what that asks of a change to them)."""
        if self.input.parent is None or input.named() != {"approvers"}:
            workflow.logger.warning("edit_passed_on ignored: a message takes only approvers, from its parent")
            return
        await workflow.wait_condition(
            lambda: self.started_recorded or self.status.finished or self.cancel_request is not None
        )
        if not self.started_recorded:  # ended before it began (Temporal's cancel in its first task): nothing to say
            return
        passed = input.of_approvers()  # (nothing else: `clashes` and the like are the web service's to set)
        try:
            self._check_edit(passed)
        except ApplicationError as refusal:
            refused = self.audit.record("edit_refused", actor=input.by, channel=input.channel, reason=input.reason,
                                        refusal=refusal.message, changes=["approvers"])  # fmt: skip
            self.later(refused)
            return
        self._make_edit(passed)

    def apply_edit(self, input: EditInput, tag: str) -> list[FollowUp]:
        """The new send time, now: the wait for it plans again; the owner and the reviewers told."""
        follow_ups = super().apply_edit(input, tag)
        if input.send_at is None:
            return follow_ups
        self.input.params = self.input.params.model_copy(update={"send_at": input.send_at})
        self.plan_changes += 1
        return [*follow_ups, partial(self.tell_send_time, tag, input)]

    async def tell_send_time(self, tag: str, input: EditInput) -> None:
        """The owner and the reviewers hear when the message goes out now."""
        assert input.send_at is not None
        when = local_time(input.send_at, self.input.params.time_zone)
        await self.outbound.email(
            f"{tag}:send-at", "changed", sorted({self.input.params.owner, *self.gate.state.approvers}), "scheduled",
            by=input.by, reason=input.reason, items=[], changes=[f"the message goes out at {when}"],
        )  # fmt: skip
