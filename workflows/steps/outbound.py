"""Everything a process sends out: tracker issues, email, chat.

Each send is an activity keyed by the process, the step and the recipient,
so a retry is never a second message, and each is followed by its audit
event. A send that still fails after its retries is recorded, not fatal:
one bounced email must not stop a launch.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, is_cancelled_exception

from domain.models import (
    ApprovalLinkRequest,
    Delivery,
    IssueRef,
    IssueRequest,
    MessageRequest,
    TransitionRequest,
    process_label,
)
from workflows.options import INTEGRATION
from workflows.steps.audit import AuditTrail

with workflow.unsafe.imports_passed_through():
    from activities.chat import ChatActivities
    from activities.mail import MailActivities
    from activities.tracker import TrackerActivities


def _failed(err: ActivityError) -> str:
    """What went wrong, for the audit trail; a cancellation is not a failure and goes on up."""
    if is_cancelled_exception(err):
        raise err
    return str(err.cause or err)


class Outbound:
    """Sends for one process; `context` is merged into every message."""

    def __init__(self, process_id: str, audit: AuditTrail, context: dict[str, Any]) -> None:
        self.process_id = process_id
        self.audit = audit
        self.context = context

    def _key(self, *parts: object) -> str:
        return ":".join([self.process_id, *map(str, parts)])

    async def email(self, key: str, template: str, to: list[str], step: str, **context: Any) -> bool:
        """Email `to`; returns whether it went out."""
        request = MessageRequest(
            process_id=self.process_id,
            key=self._key("email", key),
            template=template,
            to=sorted(set(to)),
            context=self.context | context,
        )
        return await self._deliver(MailActivities.send_email, request, step, "email", template, request.to)

    async def chat(self, key: str, template: str, channel: str, step: str, **context: Any) -> bool:
        """Post to `channel`; returns whether it went out."""
        request = MessageRequest(
            process_id=self.process_id,
            key=self._key("chat", key),
            template=template,
            to=[channel],
            context=self.context | context,
        )
        return await self._deliver(ChatActivities.post_message, request, step, "chat", template, [channel])

    async def approval_request(
        self,
        gate: str,
        round_: int,
        approver: str,
        token_id: str,
        expires_at: datetime,
        step: str,
        reminder: int = 0,
        **context: Any,
    ) -> bool:
        """Email an approver their own approval link (again, for a reminder).

        The first request of a round also goes to them in chat, with buttons;
        reminders go by email only, so chat keeps one request per round to
        edit once it is settled.
        """
        request = ApprovalLinkRequest(
            process_id=self.process_id,
            key=self._key("approval", gate, round_, approver, reminder),
            gate=gate,
            round=round_,
            approver=approver,
            token_id=token_id,
            expires_at=expires_at,
            context=self.context | context | {"reminder": reminder > 0},
        )
        emailed = await self._deliver(
            MailActivities.send_approval_request, request, step, "email", request.template, [approver]
        )
        if not reminder:
            in_chat = request.model_copy(
                update={"key": self._chat_request_key(gate, round_, approver), "template": "approval_request_chat"}
            )
            await self._deliver(
                ChatActivities.post_approval_request, in_chat, step, "chat", in_chat.template, [approver]
            )
        return emailed

    async def settle_approval_request(self, gate: str, round_: int, approver: str, step: str, **context: Any) -> None:
        """Replace an approver's chat request (its buttons) by what became of it: their decision, or the gate's."""
        request = MessageRequest(
            process_id=self.process_id,
            key=self._chat_request_key(gate, round_, approver),
            template="approval_settled_chat",
            to=[approver],
            context=self.context | context,
        )
        try:
            delivery: Delivery = await workflow.execute_activity_method(
                ChatActivities.update_message, request, **INTEGRATION
            )
        except ActivityError as err:
            await self.audit.record("delivery_failed", step=step, via="chat", to=[approver], error=_failed(err))
            return
        if delivery.outcome == "sent":
            await self.audit.record("message_updated", step=step, via="chat", to=[approver], template=request.template)

    def _chat_request_key(self, gate: str, round_: int, approver: str) -> str:
        return self._key("approval-chat", gate, round_, approver)

    async def _deliver(
        self, activity: Any, request: Any, step: str, channel: str, template: str, to: list[str]
    ) -> bool:
        try:
            delivery: Delivery = await workflow.execute_activity_method(activity, request, **INTEGRATION)
        except ActivityError as err:
            await self.audit.record(
                "delivery_failed", step=step, channel_name=channel, to=to, template=template, error=_failed(err)
            )
            return False
        if delivery.outcome == "skipped":
            return False
        await self.audit.record("message_sent", step=step, via=channel, to=to, template=template)
        return True

    async def create_issue(self, marker: str, step: str, **fields: Any) -> IssueRef | None:
        """Create a tracker issue once per `marker`; None if the tracker refused."""
        request = IssueRequest(
            process_id=self.process_id, marker=self._key(marker), labels=[process_label(self.process_id)], **fields
        )
        try:
            ref: IssueRef = await workflow.execute_activity_method(
                TrackerActivities.create_issue, request, **INTEGRATION
            )
        except ActivityError as err:
            await self.audit.record(
                "delivery_failed", step=step, via="tracker", summary=request.summary, error=_failed(err)
            )
            return None
        await self.audit.record(
            "issue_created", step=step, issue=ref.key, summary=request.summary, assignee=request.assignee
        )
        return ref

    async def close_issue(self, issue_key: str, status: str, comment: str, step: str) -> None:
        """Move an issue to `status` with a comment, once per issue and status."""
        request = TransitionRequest(
            process_id=self.process_id,
            marker=self._key("transition", issue_key, status),
            issue_key=issue_key,
            status=status,
            comment=comment,
        )
        try:
            await workflow.execute_activity_method(TrackerActivities.transition_issue, request, **INTEGRATION)
        except ActivityError as err:
            await self.audit.record("delivery_failed", step=step, via="tracker", issue=issue_key, error=_failed(err))
            return
        await self.audit.record("issue_transitioned", step=step, issue=issue_key, status=status)
