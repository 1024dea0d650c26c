"""Everything a process sends out: tracker issues, email, chat.

Each send is an activity keyed by the process, the step and the recipient,
so a retry is never a second message, and each is followed by its audit
event: sent, sent again (an attempt's outcome was unknown, so it went out
again under the same identity), or failed. A message that still fails after
its retries (or is refused at once: a bad token, an unknown address) is
recorded, told to the process owner by email, shown on the process page and
kept until it is resent (`Outbound.resend`), not fatal: one bounced email
must not stop a launch.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, is_cancelled_exception

from domain.enums import Channel
from domain.errors import Conflict, NotFound, SignoffError
from domain.requests import (
    ApprovalLinkRequest,
    Delivery,
    IssueRef,
    IssueRequest,
    IssueUpdate,
    MessageRequest,
    TransitionRequest,
    process_label,
)
from domain.views import UndeliveredMessage
from workflows.options import INTEGRATION
from workflows.steps.audit import AuditTrail

with workflow.unsafe.imports_passed_through():
    from activities.chat import ChatActivities
    from activities.mail import MailActivities
    from activities.tracker import TrackerActivities

T = TypeVar("T")


def failure(err: ActivityError) -> str:
    """What went wrong, for the audit trail; a cancellation is not a failure and goes on up."""
    if is_cancelled_exception(err):
        raise err
    cause = err.cause or err
    return cause.message if isinstance(cause, ApplicationError) else str(cause)


def asked(approver: str, on_behalf_of: str | None) -> str:
    """Who a request is for, as its keys name them: the approver, or a delegate and whom they stand in for."""
    return f"{approver}>{on_behalf_of}" if on_behalf_of else approver


@dataclass
class _Undelivered:
    """A message that could not be delivered, with what it takes to send it again."""

    message: UndeliveredMessage
    activity: Any
    request: MessageRequest | ApprovalLinkRequest


class Outbound:
    """Sends for one process; `context` is merged into every message, and `owner` hears of what failed."""

    def __init__(self, process_id: str, audit: AuditTrail, context: dict[str, Any], owner: str) -> None:
        self.process_id = process_id
        self.audit = audit
        self.context = context
        self.owner = owner
        self._undelivered: dict[str, _Undelivered] = {}

    @property
    def undelivered(self) -> list[UndeliveredMessage]:
        """The messages that could not be delivered and were not resent since, oldest first."""
        return [entry.message for entry in self._undelivered.values()]

    def resend_refusal(self, key: str) -> SignoffError | None:
        """Why the message `key` cannot be resent now, if it cannot."""
        entry = self._undelivered.get(key)
        if entry is None:
            return NotFound(f"process {self.process_id} has no undelivered message {key!r}")
        if entry.message.resending:
            return Conflict(f"{entry.message.what}: a resend is under way already")
        return None

    def start_resend(self, key: str) -> UndeliveredMessage:
        """Mark the message `key` as being resent (before `resend` runs, so the answer can say so)."""
        entry = self._undelivered[key]
        entry.message.resending = True
        return entry.message

    async def resend(self, key: str, by: str, channel: Channel) -> None:
        """Deliver again the message `key` (after `start_resend`), as it was: same key, same content, same link.

        A resend after a certain failure is the message's first delivery; the ledger makes sure of it.
        """
        entry = self._undelivered[key]
        message = entry.message
        await self.audit.record("resend_requested", actor=by, channel=channel, step=message.step, key=key,
                                to=message.to, what=message.what)  # fmt: skip
        await self._deliver(entry.activity, entry.request, message.step, message.via, message.what)

    side_by_side = False
    """Whether sends that do not wait on each other go out together (`workflows.base.LIGHTER_TASKS`)."""

    async def together(self, *sends: Awaitable[T]) -> list[T]:
        """Run `sends` side by side: their activities are scheduled in one workflow task and their answers
        often come back in one. A process started before that runs them one after the other, as it did."""
        if self.side_by_side:
            return list(await asyncio.gather(*sends))
        return [await send for send in sends]

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
        what = f"email {', '.join(request.to)} ({template.replace('_', ' ')})"
        return await self._deliver(MailActivities.send_email, request, step, "email", what)

    async def chat(self, key: str, template: str, channel: str, step: str, **context: Any) -> bool:
        """Post to `channel`; returns whether it went out."""
        request = MessageRequest(
            process_id=self.process_id,
            key=self._key("chat", key),
            template=template,
            to=[channel],
            context=self.context | context,
        )
        what = f"post to {channel} ({template.removesuffix('_chat').replace('_', ' ')})"
        return await self._deliver(ChatActivities.post_message, request, step, "chat", what)

    async def approval_request(
        self,
        gate: str,
        round_: int,
        approver: str,
        token_id: str,
        expires_at: datetime,
        step: str,
        reminder: int = 0,
        template: str = "approval_request",
        content_hash: str | None = None,
        tag: str = "",
        on_behalf_of: str | None = None,
        **context: Any,
    ) -> bool:
        """Email an approver their own approval link (again, for a reminder), from `template`
        (and its chat twin ``<template>_chat``); `content_hash` binds the link to one version of a message,
        and `tag` keys a reminder someone asked for apart from the scheduled ones (which are keyed by number).
        With `on_behalf_of`, `approver` is asked in that approver's place (a delegate, the gate's backup): the
        link names both, and is keyed apart from their own.

        The first request of a round also goes to them in chat, with buttons;
        reminders go by email only, so chat keeps one request per round to
        edit once it is settled.
        """
        standing_in = {"on_behalf_of": on_behalf_of} if on_behalf_of else {}
        request = ApprovalLinkRequest(
            process_id=self.process_id,
            key=self._key("approval", gate, round_, asked(approver, on_behalf_of), tag or reminder),
            gate=gate,
            round=round_,
            approver=approver,
            token_id=token_id,
            expires_at=expires_at,
            template=template,
            content_hash=content_hash,
            context=self.context | context | {"reminder": reminder > 0, "content_hash": content_hash} | standing_in,
            on_behalf_of=on_behalf_of,
        )
        whose = f" (on behalf of {on_behalf_of})" if on_behalf_of else ""
        emailing = self._deliver(
            MailActivities.send_approval_request, request, step, "email", f"email {approver} their approval link{whose}"
        )
        if reminder:
            return await emailing
        in_chat = request.model_copy(
            update={
                "key": self._chat_request_key(gate, round_, asked(approver, on_behalf_of)),
                "template": f"{template}_chat",
            }
        )
        posting = self._deliver(
            ChatActivities.post_approval_request, in_chat, step, "chat", f"send {approver} their request in chat{whose}"
        )
        emailed, _ = await self.together(emailing, posting)
        return emailed

    async def settle_approval_request(
        self, gate: str, round_: int, approver: str, step: str, on_behalf_of: str | None = None, **context: Any
    ) -> None:
        """Replace an approver's chat request (its buttons) by what became of it: their decision, or the gate's
        (`on_behalf_of`: the request they had in that approver's place)."""
        request = MessageRequest(
            process_id=self.process_id,
            key=self._chat_request_key(gate, round_, asked(approver, on_behalf_of)),
            template="approval_settled_chat",
            to=[approver],
            context=self.context | context,
        )
        try:
            delivery: Delivery = await workflow.execute_activity_method(
                ChatActivities.update_message, request, **INTEGRATION
            )
        except ActivityError as err:
            await self.audit.record("delivery_failed", step=step, via="chat", to=[approver], error=failure(err))
            return
        if delivery.outcome == "sent":
            await self.audit.record("message_updated", step=step, via="chat", to=[approver], template=request.template)

    def _chat_request_key(self, gate: str, round_: int, approver: str) -> str:
        return self._key("approval-chat", gate, round_, approver)

    async def _deliver(self, activity: Any, request: Any, step: str, via: str, what: str) -> bool:
        to = [request.approver] if isinstance(request, ApprovalLinkRequest) else request.to
        try:
            delivery: Delivery = await workflow.execute_activity_method(activity, request, **INTEGRATION)
        except ActivityError as err:
            error = failure(err)
            self._undelivered.pop(request.key, None)  # (a resend that failed again goes to the end of the list)
            self._undelivered[request.key] = _Undelivered(
                UndeliveredMessage(key=request.key, via=via, to=to, what=what, step=step, error=error,
                                   at=workflow.now()),
                activity, request,
            )  # fmt: skip
            await self.audit.record(
                "delivery_failed", step=step, via=via, to=to, template=request.template, error=error
            )
            if not (via == "email" and self.owner in to):  # their own mailbox is the one failing
                await self.tell_owner(via, step, what, error)
            return False
        self._undelivered.pop(request.key, None)
        if delivery.outcome == "skipped":
            return False
        again: dict[str, Any] = {"again": "after an unknown outcome"} if delivery.outcome == "sent_again" else {}
        await self.audit.record("message_sent", step=step, via=via, to=to, template=request.template, **again)
        return True

    async def tell_owner(self, via: str, step: str, what: str, error: str) -> None:
        """Email the process owner what could not be done and why: once per step and error, not per issue
        (a revoked Jira token fails all thirteen issues of a kickoff with the same sentence)."""
        digest = hashlib.sha256(f"{via}\n{error}".encode()).hexdigest()[:16]
        request = MessageRequest(
            process_id=self.process_id,
            key=self._key("problem", step, digest),
            template="delivery_problem",
            to=[self.owner],
            context=self.context | {"what": what, "error": error},
        )
        await self._deliver(MailActivities.send_email, request, step, "email", "tell the owner")

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
            error = failure(err)
            await self.audit.record("delivery_failed", step=step, via="tracker", summary=request.summary, error=error)
            await self.tell_owner("tracker", step, f'create the tracker issue "{request.summary}"', error)
            return None
        await self.audit.record(
            "issue_created", step=step, issue=ref.key, summary=request.summary, assignee=request.assignee
        )
        return ref

    async def close_issue(
        self, issue_key: str, status: str, comment: str, step: str, *, resolution: Literal["done", "wont_do"] = "done"
    ) -> None:
        """Move an issue to `status` with a comment, once per issue and status; `resolution` ``wont_do``
        closes it as dropped work."""
        request = TransitionRequest(
            process_id=self.process_id,
            marker=self._key("transition", issue_key, status),
            issue_key=issue_key,
            status=status,
            comment=comment,
            resolution=resolution,
        )
        try:
            await workflow.execute_activity_method(TrackerActivities.transition_issue, request, **INTEGRATION)
        except ActivityError as err:
            error = failure(err)
            await self.audit.record("delivery_failed", step=step, via="tracker", issue=issue_key, error=error)
            await self.tell_owner("tracker", step, f"move {issue_key} to {status}", error)
            return
        dropped: dict[str, Any] = {"resolution": "won't do"} if resolution == "wont_do" else {}
        await self.audit.record("issue_transitioned", step=step, issue=issue_key, status=status, **dropped)

    async def update_issue(self, update: IssueUpdate, step: str) -> None:
        """Change an issue's assignee or due date (an item reassigned, a launch moved), saying why on it; a
        failure is recorded and told to the owner, as a failed send is."""
        request = update.model_copy(update={"process_id": self.process_id, "marker": self._key(update.marker)})
        try:
            await workflow.execute_activity_method(TrackerActivities.update_issue, request, **INTEGRATION)
        except ActivityError as err:
            error = failure(err)
            await self.audit.record("delivery_failed", step=step, via="tracker", issue=update.issue_key, error=error)
            await self.tell_owner("tracker", step, f"update {update.issue_key}", error)
            return
        changed: dict[str, Any] = {k: str(v) for k, v in (("assignee", update.assignee), ("due", update.due)) if v}
        await self.audit.record("issue_updated", step=step, issue=update.issue_key, **changed)
