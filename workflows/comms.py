"""A customer message: reviewed, approved exactly as written, then sent at its time.

`run` tells the story: review (again after every new version), wait for the
send time, send. Each approval is bound to the content hash of the version it
was about, so a revision voids earlier approvals and asks the reviewers
again; what goes out is the version they approved, byte for byte.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

from domain.comms import CommsInput, content_hash
from domain.enums import Decision, GateStatus, ProcessStatus, StepStatus
from domain.errors import Conflict
from domain.requests import BatchRequest, BatchResult
from domain.rules import local_time
from domain.updates import CancelInput, DecisionInput, RevisionInput
from domain.views import ApprovalRecord, Content, PlannedMoment, ProcessView
from workflows.comms_edits import MessageEdits
from workflows.options import INTEGRATION
from workflows.steps.approval import ApprovalGate
from workflows.steps.gate import Email
from workflows.steps.outbound import failure
from workflows.steps.refusal import refuse
from workflows.steps.timers import wait_until, wait_until_planned

with workflow.unsafe.imports_passed_through():
    from activities.mail import MailActivities


@workflow.defn(name="comms")
class CommsWorkflow(MessageEdits):
    """One customer message, from its first version to its last delivery."""

    kind = "comms"
    noun = "message"
    input: CommsInput
    gate_step = "review"
    request_template = "comms_review"
    gate_events = ("review_requested", "review_closed")
    drift = frozenset({"unaudited-requests"})

    @workflow.init
    def __init__(self, input: CommsInput) -> None:
        params, template = input.params, input.template
        self.input = input
        gate = ApprovalGate.new(template.review, params.reviewer_emails, params.policy, owner=params.owner)
        context = {"owner": params.owner, "about": f'the message "{params.subject}"'}
        self.begin(params.heading(), params.owner, gate, context)
        self.versions = [
            Content(
                version=1,
                subject=params.subject,
                body=params.body,
                content_hash=content_hash(params.subject, params.body),
                by=params.owner,
                at=workflow.now(),
            )
        ]
        self.reviewing = self.versions[0]
        self.revised = False
        self.sending = False
        self._send: asyncio.Task[None] | None = None
        self.outcomes: dict[str, str] = {}

    @property
    def current(self) -> Content:
        """The version under review (or approved, or sent)."""
        return self.versions[-1]

    @workflow.run
    async def run(self, input: CommsInput) -> ProcessView:
        """Review, wait, send; a cancellation before the send runs the clean-up."""
        return await self.run_body(self._comms, self.on_cancel)

    async def on_cancel(self, why: CancelInput) -> None:
        """Before the send: the clean-up. During it (a cancel from Temporal, or from a parent): a message
        half sent is not called back, so the send finishes and says how far it went."""
        if self._send is not None:
            await self._send
            self.wound_down = True
            return
        await self.wind_down(ProcessStatus.CANCELLED, why)

    async def _comms(self) -> None:
        first = self.current
        await self.record_started(version=1, content_hash=first.content_hash)
        approved_already = await self.preapproved()
        while True:
            if not approved_already and not await self.review():
                return
            approved_already = False  # a new version while it waited: review it
            if await self.wait_for_send_time():
                break
        self._send = asyncio.create_task(self.send())
        await asyncio.shield(self._send)

    # ---- 1. review -------------------------------------------------------------

    async def preapproved(self) -> bool:
        """Whether the parent process approved exactly this text already (then there is no review)."""
        given = self.input.preapproved
        if given is None or given.content_hash != self.current.content_hash:
            return False
        self._finish_step("review")
        await self.audit.record(
            "preapproved", step="review", process=given.process, approvers=given.approvers,
            content_hash=given.content_hash,
        )  # fmt: skip
        return True

    async def review(self) -> bool:
        """Ask the reviewers about the current version until they approve it; False if it ends here."""
        self._start_step("review")
        template = self.input.template.review
        while True:
            self.reviewing = self.current
            self.revised = False
            expires_at = workflow.now() + timedelta(days=template.expires_after_days)
            outcome = await self.gate_round(expires_at, template.remind_every_days)
            if outcome == GateStatus.APPROVED:
                self._finish_step("review")
                return True
            if self.revised and outcome != GateStatus.REJECTED:
                continue  # a new version: earlier approvals are void, ask again (a rejection stands)
            if outcome == GateStatus.CHANGES_REQUESTED and await self.await_revision():
                continue
            await self.reject("review", "no decision before the review expired")
            return False

    def request_context(self, approver: str) -> dict[str, object]:
        """A reviewer sees the version under review, rendered, and their link is bound to its hash."""
        version, params = self.current, self.input.params
        return {
            "content_hash": version.content_hash,
            "subject": version.subject,
            "body": version.body,
            "version": version.version,
            "role": params.role_of(approver),
            "audience_size": len(params.audience),
            "send_at": local_time(params.send_at, params.time_zone) if params.send_at else "",
        }

    def gate_details(self) -> dict[str, object]:
        """Every round and decision names the version it was about."""
        return {"version": self.reviewing.version, "content_hash": self.reviewing.content_hash}

    def gate_interrupted(self) -> bool:
        """A new version ends the round: the reviewers are asked again about it."""
        return self.revised

    async def await_revision(self) -> bool:
        """After a request for changes, wait for a new version (as long as a review round lasts)."""
        self.status = ProcessStatus.WAITING
        deadline = workflow.now() + timedelta(days=self.input.template.review.expires_after_days)
        revised = await wait_until(lambda: self.revised, deadline)
        self.status = ProcessStatus.RUNNING
        return revised

    def check_decision(self, input: DecisionInput) -> None:
        """A decision is about one version: one taken on an older version is refused."""
        if input.content_hash and input.content_hash != self.current.content_hash:
            raise refuse(
                Conflict(
                    f"this request was for another version; the message is now at version {self.current.version}: "
                    "review it from the newest request"
                )
            )
        self.gate.validate(input)

    def on_decision(self, record: ApprovalRecord) -> None:
        """The decision is bound to the version's hash; changes requested hold the round, whatever the policy."""
        record.content_hash = self.current.content_hash
        if record.decision == Decision.CHANGES:
            self.gate.state.status = GateStatus.CHANGES_REQUESTED

    def decision_email(self, record: ApprovalRecord) -> Email:
        """The owner hears of every decision, with the reviewer's role."""
        state, params = self.gate.state, self.input.params
        return Email(
            "comms_decision",
            [params.owner],
            {
                "approver": record.approver,
                "role": params.role_of(record.approver),
                "decision": record.decision.value,
                "comment": record.comment,
                "subject": self.current.subject,
                "version": self.current.version,
                "gate_status": state.status.value,
                "approvals": self.gate.approvals,
                "required": state.required,
            },
        )

    @workflow.update
    async def revise(self, input: RevisionInput) -> Content:
        """A new version: it voids every approval so far, and the reviewers are asked again."""
        subject = input.subject or self.current.subject
        version = Content(
            version=self.current.version + 1,
            subject=subject,
            body=input.body,
            content_hash=content_hash(subject, input.body),
            by=input.by,
            at=workflow.now(),
            comment=input.comment,
        )
        self.versions.append(version)
        self.revised = True
        await self.audit.record(
            "revised",
            actor=input.by,
            channel=input.channel,
            step="review",
            version=version.version,
            content_hash=version.content_hash,
            subject=version.subject,
            body=version.body,
            comment=input.comment,
        )
        return version

    @revise.validator
    def _check_revision(self, input: RevisionInput) -> None:
        if self.status.finished or self.cancel_request:
            raise refuse(Conflict(f"the message is {self.status.value}; it takes no new versions"))
        if self.sending:
            raise refuse(Conflict("the message is being sent; it can no longer change"))
        if content_hash(input.subject or self.current.subject, input.body) == self.current.content_hash:
            raise refuse(Conflict(f"this is version {self.current.version} unchanged"))

    # ---- 2. the send time (moved by an edit: workflows/comms_edits.py) -----------

    async def wait_for_send_time(self) -> bool:
        """Wait for `send_at` (cancellable, and a new version sends it back to review); True when it is time."""
        send_at = self.input.params.send_at
        if self.revised:  # a new version came in just as the review closed
            return False
        self._start_step("scheduled")
        if send_at and send_at > workflow.now():
            await self.audit.record("scheduled", step="scheduled", send_at=send_at.isoformat())
            if await wait_until_planned(lambda: self.revised, self.send_time, lambda: self.plan_changes):
                self.steps["scheduled"].status = StepStatus.PENDING
                return False
        self._finish_step("scheduled")
        return True

    # ---- 3. the send -------------------------------------------------------------

    async def send(self) -> None:
        """Send the approved version: email in batches (one key per recipient), then the chat channels."""
        self.sending = True
        self._start_step("send")
        version, params, template = self.current, self.input.params, self.input.template
        recipients = sorted(set(params.audience)) if "email" in params.channels else []
        size = template.batch_size
        for number, start in enumerate(range(0, len(recipients), size), start=1):
            await self.send_batch(number, recipients[start : start + size])
            if template.pause_between_batches_seconds and start + size < len(recipients):
                await workflow.sleep(timedelta(seconds=template.pause_between_batches_seconds))
        channels = [c for c in params.channels if c != "email"]
        await self.outbound.together(
            *(
                self.outbound.chat(
                    f"message:{version.content_hash[:16]}:{channel}", "comms_message_chat", channel, "send",
                    subject=version.subject, body=version.body,
                )
                for channel in channels
            )
        )  # fmt: skip
        refused = {who: why for who, why in self.outcomes.items() if not why.startswith("sent")}  # "sent", "sent again"
        sent = len(self.outcomes) - len(refused)
        self._finish_step("send")
        await self.outbound.email(
            "sent",
            "comms_sent",
            [params.owner],
            "send",
            subject=version.subject,
            version=version.version,
            content_hash=version.content_hash,
            approvers=self.approvers(),
            sent=sent,
            total=len(recipients),
            channels=channels,
            refused=refused,
        )
        # A message nobody received (a relay down for a day) did not go out: a parent must not take it as sent.
        await self.finish(
            f"sent to {sent} of {len(recipients)}", "send",
            status=ProcessStatus.FAILED if recipients and not sent else ProcessStatus.COMPLETED,
            version=version.version, content_hash=version.content_hash, sent=sent, refused=len(refused),
            total=len(recipients),
        )  # fmt: skip

    def approvers(self) -> list[str]:
        """Who approved the version that goes out: this round's approvers, or the parent's."""
        state = self.gate.state
        approved = [d.approver for d in state.decisions if d.round == state.round and d.decision == Decision.APPROVE]
        given = self.input.preapproved
        return approved or (given.approvers if given and given.content_hash == self.current.content_hash else [])

    async def send_batch(self, number: int, recipients: list[str]) -> None:
        """One batch; each recipient's outcome goes into the audit trail."""
        version = self.current
        request = BatchRequest(
            process_id=self.id,
            key=f"{self.id}:send:{version.content_hash[:16]}",
            template="comms_message",
            recipients=recipients,
            context={"subject": version.subject, "body": version.body},
        )
        try:
            result: BatchResult = await workflow.execute_activity_method(
                MailActivities.send_batch, request, **INTEGRATION
            )
        except ActivityError as err:
            error = failure(err)
            result = BatchResult(outcomes=dict.fromkeys(recipients, f"failed: {error}"))
            await self.outbound.tell_owner("email", "send", f"send batch {number} of the message", error)
        self.outcomes |= result.outcomes
        await self.audit.record(
            "batch_sent", step="send", batch=number, version=version.version, content_hash=version.content_hash,
            outcomes=result.outcomes,
        )  # fmt: skip

    # ---- the end, early -------------------------------------------------------

    def cancel_refusal(self) -> str | None:
        """A message being sent cannot be called back."""
        return "the message is being sent; it can no longer be cancelled" if self.sending else None

    async def tell_ended(self, action: str, why: CancelInput) -> None:
        """The owner and the reviewers hear of it."""
        params = self.input.params
        await self.outbound.email(
            action,
            "comms_ended",
            sorted({params.owner, *params.reviewer_emails}),
            action,
            subject=self.current.subject,
            outcome="cancelled" if action == "cancelled" else "rejected in review",
            by=why.by,
            reason=why.reason,
        )

    # ---- what users see ------------------------------------------------------

    def plan(self) -> list[PlannedMoment]:
        """The send time, when there is one."""
        send_at = self.input.params.send_at
        return [PlannedMoment(at=send_at, what="the message goes out", step="send")] if send_at else []

    @workflow.query
    def view(self) -> ProcessView:
        """The message as the API and the pages show it, with its current version."""
        return self.process_view(
            content=self.current,
        )
