"""An end of life's customer notices: each a `comms` child reviewed by the approvers and sent on its day, the
first one held for the owner when it ends unsent (the template's ``notice_hold_days``).

`CustomerNotices` is the part of `workflows.eol.EolWorkflow` that starts its notices and reads their outcome;
the end of life's `run` reads top to bottom without it.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from functools import partial
from typing import Any

from temporalio import workflow
from temporalio.exceptions import FailureError
from temporalio.workflow import ChildWorkflowHandle, ParentClosePolicy

from domain.comms import CommsInput, CommsParams, Preapproval, Reviewer
from domain.edits import ApproverEdits, Change, EditInput
from domain.enums import Channel, Decision, ProcessStatus, StepStatus
from domain.updates import CancelInput, RecoverInput
from domain.views import Content, ProcessView
from workflows.eol_edits import MovableMilestones
from workflows.steps.edits import FollowUp

Child = ChildWorkflowHandle[Any, ProcessView]

NOTICES_FOLLOW = "eol-notices-follow-approvers"
"""The patch that passes a change of an end of life's approvers on to its customer notices under way from the
workflow, in its history (the web service did it after the edit, one update after another: a crash in between
left the notices' reviewers behind). One marker per edit that passes one on, and per notice that starts while one
was made (`passes_on`)."""


async def notice_ended(child: Child) -> None:
    """Wait for a notice to end, however it ends."""
    with contextlib.suppress(Exception):
        await child


class CustomerNotices(MovableMilestones):
    """The notice step, and starting and reading every notice (the reminders' too)."""

    notice: Content | None
    """The notice that was sent, once it is."""
    notice_process: str | None
    """The notice that was sent (the first, or the owner's re-run of it); its reminders carry its approval."""
    notice_approvers: list[str]
    children: list[str]
    """Every notice started, in order."""
    notices_ended: set[str]
    """The notices seen to end, however they ended."""
    notices_preapproved: set[str]
    """The notices started with the approval of the one sent (reminders word for word): no review to follow."""
    watching: list[asyncio.Task[None]]
    approvers_edit: EditInput | None
    """The last edit of the approvers (a notice starting meanwhile is passed it once started)."""

    async def customer_notice(self) -> bool:
        """The deprecation notice: reviewed by the approvers, sent on the announce date; False if it ends unsent.

        One that ends unsent is held for the owner when the template says so (``notice_hold_days``): they send a
        new one (a new `comms` child, at the announce time or now if that has passed), go on without it, or end."""
        params = self.input.params
        self._start_step("notice")
        subject, body = self.input.template.notice.filled(**params.facts())
        child = await self.start_notice("notice", subject, body, self.moment("announce"))
        result = await self.outcome_of(child)
        while result.status != ProcessStatus.COMPLETED or result.content is None:
            why = f"the customer notice ({child.id}) ended {result.status.value}: {result.outcome or ''}".strip()
            word = await self.notice_held(why)
            if word is None or word.action == "end":
                return False
            if word.action == "skip":
                return True
            again = f"notice again {self.holds}"  # (keyed apart from the first notice's and every other's)
            child = await self.start_notice(again, subject, body, max(self.moment("announce"), workflow.now()))
            result = await self.outcome_of(child)
        self.notice, self.notice_process = result.content, child.id
        approved = result.content.content_hash
        self.notice_approvers = sorted(
            {a.approver for a in result.approvals if a.decision == Decision.APPROVE and a.content_hash == approved}
        )
        await self.audit.record(
            "notice_sent", step="notice", process=child.id, version=result.content.version,
            content_hash=result.content.content_hash, outcome=result.outcome,
        )  # fmt: skip
        self._finish_step("notice")
        return True

    async def notice_held(self, why: str) -> RecoverInput | None:
        """A notice that ended unsent (`why`): held for the owner's word when the template says so; else, or
        without their word in time, the end of life ends rejected (as before holds), and None."""
        days = self.input.template.notice_hold_days
        word = await self.hold_step("notice", "The customer notice was not sent", why, days) if days else None
        if word is not None and word.action == "end":
            await self.end_held(word, "The customer notice was not sent")
        elif word is None:
            self._finish_step("notice", StepStatus.FAILED)
            await self.wind_down(ProcessStatus.REJECTED, CancelInput(by="", reason=why, channel=Channel.SYSTEM))
        return word

    async def start_notice(
        self, key: str, subject: str, body: str, send_at: datetime, preapproved: Preapproval | None = None
    ) -> Child:
        """A `comms` child for one customer notice, cancelled with this process."""
        params, template = self.input.params, self.input.notice
        assert template is not None, "the service loads the notice's comms template at start"
        notice = CommsParams(
            owner=params.owner,
            subject=subject,
            body=body,
            audience=params.customers,
            reviewers=[Reviewer(email=a, role="Approver") for a in params.approvers],
            policy=params.policy,
            send_at=send_at,
            template=self.input.template.notice_template,
            key=f"{self.id} {key}",
        )
        child: Child = await workflow.start_child_workflow(
            "comms",
            CommsInput(
                params=notice, template=template, requested_by="signoff", parent=self.id, preapproved=preapproved
            ),
            id=notice.id(send_at.date()),
            parent_close_policy=ParentClosePolicy.REQUEST_CANCEL,
            result_type=ProcessView,
        )
        self.children.append(child.id)
        self.seen_to_end(child, preapproved is not None)
        if self.cancel_request is not None:  # cancelled while the child started: the cancel went to it too
            raise asyncio.CancelledError
        asked = [r.email for r in notice.reviewers]
        if preapproved is None and asked != self.input.params.approvers and self.passes_on(f"start-{child.id}"):
            await self.reviewers_changed_while_starting(child.id, asked)
        await self.audit.record("notice_started", step="notice", process=child.id, send_at=send_at.isoformat())
        return child

    def pass_on(self, input: EditInput) -> tuple[list[Change], list[FollowUp]]:
        """A change of approvers goes on to every notice under way: its reviewers are the approvers (`start_notice`).
        A notice takes it while its review is open, or says in its own trail why not (approved, sent)."""
        said, passing = super().pass_on(input)
        if input.approvers is None or input.approvers.empty:
            return said, passing
        self.approvers_edit = input
        gone = self.notices_ended | self.notices_preapproved
        under_way = [child for child in self.children if child not in gone]
        if not under_way or not self.passes_on(f"edit-{self.edits}"):
            return said, passing
        said += [
            Change(what=f"reviewers:{child}", sentence=f"the customer notice {child} is passed the change: its "
                   "reviewers follow while its review is open (its own trail says)")
            for child in under_way
        ]  # fmt: skip
        return said, [*passing, partial(self.pass_to_notices, under_way, input.of_approvers())]

    async def pass_to_notices(self, notices: list[str], input: EditInput) -> None:
        """Signal each of `notices` the edit (`EditableProcess.edit_passed_on`); one that ended meanwhile is noted."""
        for child in notices:
            try:
                await workflow.get_external_workflow_handle(child).signal("edit_passed_on", input)
            except FailureError as gone:
                await self.audit.record("edit_not_passed_on", step="notice", process=child, why=gone.message)

    def passes_on(self, moment: str) -> bool:
        """Whether a change of approvers goes on to the notices at `moment` (an edit, a notice's start): patch
        `NOTICES_FOLLOW` under an id of the moment's own. The SDK keeps a patch's first answer for the whole run,
        so under one id an end of life that replays an edit made before the patch would pass none on after it."""
        return workflow.patched(f"{NOTICES_FOLLOW}:{moment}")

    def seen_to_end(self, child: Child, preapproved: bool) -> None:
        """Keep `notices_ended` (and `notices_preapproved`) true of `child`, however it ends."""
        if preapproved:
            self.notices_preapproved.add(child.id)

        async def watch() -> None:
            await notice_ended(child)
            self.notices_ended.add(child.id)

        self.watching.append(asyncio.create_task(watch()))  # (not `later`: the end of life does not wait on it)

    async def reviewers_changed_while_starting(self, child: str, asked: list[str]) -> None:
        """An edit of the approvers made while `child` was starting, with those before it, is passed on now: who
        left and who joined, a replacement as the edit named it, by whom and why."""
        now, edit = self.input.params.approvers, self.approvers_edit
        left, joined = [a for a in asked if a not in now], [a for a in now if a not in asked]
        named = edit.approvers.replace if edit is not None and edit.approvers is not None else {}
        replace = {old: new for old, new in named.items() if old in left and new in joined}
        change = ApproverEdits(replace=replace, add=[a for a in joined if a not in replace.values()],
                               remove=[a for a in left if a not in replace])  # fmt: skip
        passed = edit.of_approvers(change) if edit is not None else EditInput(by="signoff", approvers=change)
        await self.pass_to_notices([child], passed)

    async def outcome_of(self, child: Child) -> ProcessView:
        """A notice's result. A notice ends cleanly when this process is cancelled (its cancellation is
        passed on to it), so that case goes on as this process's own cancellation — by the `cancel`
        update, or by Temporal's, which reaches this task only as a pending cancel request."""
        result = await child
        task = asyncio.current_task()
        temporal_cancel = task is not None and task.cancelling() > 0
        if self.cancel_request is not None or (temporal_cancel and workflow.patched("eol-temporal-cancel")):
            raise asyncio.CancelledError  # (unpatched, a Temporal cancel ended it `rejected`)
        return result
