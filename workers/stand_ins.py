"""What a preview puts in place of the world (`workers.preview`): a store that notes every message at the
process's time, people who answer at once, and the worker's activities over them.

Every activity is the real one over the outbox adapters of a throwaway store; only the approval request's
email does more: its approver approves there and then (`People.asked`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from temporalio import activity
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from activities import AuditActivities, ChatActivities, MailActivities, TrackerActivities
from api.tokens import ApprovalLinks, ApprovalTokens
from domain.enums import Channel, Decision
from domain.requests import ApprovalLinkRequest, Delivery
from domain.updates import DecisionInput, ItemDoneInput
from domain.views import ItemState, ProcessView
from integrations.messages import TemplateRenderer
from integrations.outbox import OutboxChat, OutboxMailer, OutboxTracker
from integrations.outbox_records import OutboxEntry
from integrations.store import Store
from workers.temporal import activity_methods
from workers.timeline import Sent

WAIT_AT_MOST = 120.0
"""Seconds (real time) an approval request waits for its approver's decision (the preview's own patience)."""
QUIET_WITHIN = 15.0
"""Seconds of real time a preview waits for a process to finish what a decision or an item set going."""


class Recorder(Store):
    """The throwaway store, noting every outbox record as it is made, at the process's time.

    The outbox stamps its records with the wall clock; the preview needs the time the process was at, which
    is the time the activity was scheduled on the test server's clock. A chat post edited in place (an
    approval request once decided) is noted again with its new text.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent: list[Sent] = []
        self._lock = threading.Lock()

    def record(
        self,
        key: str,
        process_id: str,
        channel: str,
        to: list[str],
        subject: str,
        body: str,
        meta: dict[str, Any] | None = None,
    ) -> tuple[OutboxEntry, bool]:
        entry, created = super().record(key, process_id, channel, to, subject, body, meta)
        if created:
            action = "message_sent"
            if channel == "tracker":
                action = "issue_transitioned" if meta and "status" in meta else "issue_created"
            self._note(Sent(at=_now(), process=process_id, channel=channel, action=action, to=to,
                            subject=subject, body=body))  # fmt: skip
        return entry, created

    def rewrite(self, key: str, body: str) -> bool:
        rewritten = super().rewrite(key, body)
        entry = self.recorded(key) if rewritten else None
        if entry is not None:
            self._note(Sent(at=_now(), process=entry.process, channel=entry.channel, action="message_updated",
                            to=entry.to, subject=entry.subject, body=body))  # fmt: skip
        return rewritten

    def _note(self, sent: Sent) -> None:
        with self._lock:
            self.sent.append(sent)


def _now() -> datetime:
    """The process's time: when the running activity was scheduled, on the test server's clock."""
    if activity.in_activity():
        return activity.info().current_attempt_scheduled_time.astimezone(UTC)
    return datetime.now(UTC)


class People:
    """The people of a preview: every approver approves as soon as asked; with `done_items`, every item's owner
    marks it done as soon as it is filed.

    `asked` runs on the activity's thread, inside the activity that emails the request, and returns once the
    decision is in: while an activity runs, the test server does not skip time, so the decision is dated with
    the request and nobody is reminded of what they answered. One change reaches a process at a time, each
    after the process has done what the one before set going (the time-skipping server has mishandled an update
    that arrives while another's commands are still being answered).
    """

    def __init__(self, env: WorkflowEnvironment, loop: asyncio.AbstractEventLoop, done_items: bool) -> None:
        self.env = env
        self.client = env.client
        self.loop = loop
        self.done_items = done_items
        self.refused: list[Sent] = []
        """Decisions a process would not take (its gate decided already, by policy), as notes of the timeline."""
        self._turn = asyncio.Lock()
        self._closed = False
        self._waiting: set[concurrent.futures.Future[None]] = set()

    def asked(self, request: ApprovalLinkRequest) -> None:
        """`request.approver` approves, now (called on the thread of the activity that asks them)."""
        if self._closed:
            return
        future = asyncio.run_coroutine_threadsafe(self._approve(request), self.loop)
        self._waiting.add(future)
        try:
            future.result(timeout=WAIT_AT_MOST)
        except Exception:  # the preview is over or stalled, or the process could not be reached: the email went
            pass  # out all the same, and the activity ends (the worker can stop); the timeline shows no decision
        finally:
            self._waiting.discard(future)

    async def _approve(self, request: ApprovalLinkRequest) -> None:
        decision = DecisionInput(
            gate=request.gate, round=request.round, approver=request.approver, decision=Decision.APPROVE,
            token_id=request.token_id, content_hash=request.content_hash, signed_in=True,
        )  # fmt: skip
        async with self._turn:
            handle = self.client.get_workflow_handle(request.process_id)
            try:
                await handle.execute_update("decide", decision, result_type=ProcessView)
            except WorkflowUpdateFailedError as err:
                reason = str(err.cause.message if isinstance(err.cause, ApplicationError) else err)
                at = await self.env.get_current_time()
                self.refused.append(
                    Sent(at=at, process=request.process_id, channel=None, action="decision_refused", to=[],
                         subject=f"{request.approver}'s approval is not taken ({request.gate}): {reason}", body="")
                )  # fmt: skip
                return
            await quiet(handle)

    async def finish_items(self, handle: WorkflowHandle[Any, Any], view: ProcessView) -> ProcessView:
        """With `done_items`, every open item of `view` that is filed is marked done by its owner; the view then."""
        filed = [item for item in view.items if item.status == "open" and item.issue_key]
        if not self.done_items or not filed:
            return view
        async with self._turn:
            for item in filed:
                done = ItemDoneInput(item=item.key, by=item.owner, channel=Channel.API)
                with contextlib.suppress(WorkflowUpdateFailedError):  # resolved meanwhile: nothing to do
                    await handle.execute_update("mark_item_done", done, result_type=ItemState)
                await quiet(handle)
        after: ProcessView = await handle.query("view", result_type=ProcessView)
        return after

    def close(self) -> None:
        """No more decisions: every request still waiting for one goes on without it."""
        self._closed = True
        for future in list(self._waiting):
            future.cancel()


async def quiet(handle: WorkflowHandle[Any, Any]) -> None:
    """Wait (in real time) until what runs beside the process's story is done: follow-ups, the trail's writes."""
    deadline = time.monotonic() + QUIET_WITHIN
    while time.monotonic() < deadline:
        try:
            if await handle.query("settling", result_type=int) == 0:
                return
        except RPCError:  # a process that has ended answers no more queries: nothing runs beside it
            return
        await asyncio.sleep(0.01)


def activities_of(store: Recorder, public_url: str, people: People) -> list[Any]:
    """Every activity, over the outbox of the throwaway store; the approval request's email approves as well."""
    links = ApprovalLinks(ApprovalTokens(f"preview-{uuid.uuid4()}"), public_url)  # links that open nothing
    renderer = TemplateRenderer()
    mail = MailActivities(OutboxMailer(store), renderer, links)

    @activity.defn(name="send_approval_request", no_thread_cancel_exception=True)
    def send_approval_request(request: ApprovalLinkRequest) -> Delivery:
        delivery = mail.send_approval_request(request)
        if request.context.get("reminder") is not True:
            people.asked(request)
        return delivery

    methods = activity_methods(
        TrackerActivities(OutboxTracker(store, public_url)),
        mail,
        ChatActivities(OutboxChat(store), renderer, links),
        AuditActivities(store),
    )
    return [m for m in methods if m != mail.send_approval_request] + [send_approval_request]
