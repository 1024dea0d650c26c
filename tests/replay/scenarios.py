"""The runs whose histories are kept in `histories/`: one per process kind, through its main paths.

`python -m tests.replay.record` runs them on the time-skipping server and
saves each workflow's history; `test_replay.py` replays the saved files
against today's workflow code.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, ClassVar

from temporalio.client import WorkflowHandle

from domain.enums import Decision
from domain.errors import Refused
from domain.models import CancelInput, DecisionInput, ItemDoneInput, ProcessView, ResendInput, RevisionInput
from domain.postmortem import ActionItemsInput, ActionItemSpec
from domain.requests import Delivery
from integrations.outbox import OutboxMailer
from integrations.ports import Email
from tests.conftest import Stack

Handle = WorkflowHandle[Any, Any]


async def _until(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def _count(stack: Stack, handle: Handle | str, action: str) -> int:
    process_id = handle if isinstance(handle, str) else handle.id
    return sum(1 for e in stack.trail(process_id) if e.action == action)


async def launch(stack: Stack) -> Handle:
    """Kickoff, reminders and an escalation, an item marked done, the gate approved by both, launch day."""
    handle = await stack.start_launch(days_ahead=8, product="Replay Launch", retrospective=True)
    await _until(lambda: _count(stack, handle, "issue_created") == 13, "the kickoff")
    await handle.execute_update("mark_item_done", ItemDoneInput(item="documentation", by="docs@example.com"))
    await stack.env.sleep(timedelta(days=5, hours=12))
    await _until(lambda: _count(stack, handle, "approval_requested") >= 1, "the gate to open")
    for approver in ("vp@example.com", "legal@example.com"):
        await handle.execute_update(
            "decide", DecisionInput(gate="go-no-go", approver=approver, decision=Decision.APPROVE)
        )
    await handle.result()
    return handle


async def comms(stack: Stack) -> Handle:
    """A review with changes requested, a new version, both approvals, the send in two batches."""
    audience = [f"customer{n}@customer.example" for n in range(5)]
    handle = await stack.start_comms(subject="Replay maintenance", audience=audience, template={"batch_size": 3})
    await _until(lambda: _count(stack, handle, "review_requested") == 1, "the review")
    await handle.execute_update(
        "decide", DecisionInput(gate="review", approver="eng@example.com", decision=Decision.CHANGES, comment="Times?")
    )
    await handle.execute_update(
        "revise", RevisionInput(body="We upgrade on Sunday, 02:00-04:00 UTC.", by="pm@example.com")
    )
    await _until(lambda: _count(stack, handle, "review_requested") == 2, "the second round")
    for reviewer in ("cs@example.com", "eng@example.com"):
        await handle.execute_update(
            "decide", DecisionInput(gate="review", approver=reviewer, decision=Decision.APPROVE)
        )
    await handle.result()
    return handle


async def postmortem(stack: Stack) -> Handle:
    """Action items filed, the draft sent back once, approved, one item done and one accepted as won't-do."""
    handle = await stack.start_postmortem(incident="INC-REPLAY")
    await _until(lambda: _count(stack, handle, "issue_created") == 1, "the kickoff")
    items = [
        ActionItemSpec(title="Alert on error rate", owner="sre@example.com", priority="P1"),
        ActionItemSpec(title="Canary deploys", owner="dev@example.com", priority="P3"),
    ]
    await handle.execute_update("add_action_items", ActionItemsInput(items=items, by="ic@example.com"))
    for round_, decision in enumerate((Decision.CHANGES, Decision.APPROVE), start=1):
        await _until(lambda n=round_: _count(stack, handle, "draft_reopened") >= n - 1, "the draft back with changes")
        await handle.execute_update("mark_item_done", ItemDoneInput(item="draft", by="ic@example.com"))
        await _until(lambda n=round_: _count(stack, handle, "review_requested") >= n, f"review round {round_}")
        await handle.execute_update(
            "decide", DecisionInput(gate="review", approver="cto@example.com", decision=decision)
        )
    await stack.env.sleep(timedelta(days=8))
    await handle.execute_update("mark_item_done", ItemDoneInput(item="action-1", by="sre@example.com"))
    await handle.execute_update(
        "mark_item_done", ItemDoneInput(item="action-2", by="ic@example.com", resolution="wont_do", reason="Flags.")
    )
    await handle.result()
    return handle


async def eol(stack: Stack) -> Handle:
    """The notice reviewed and sent, milestones, a pre-approved reminder, the last approval, shutdown, retention."""
    today = await stack.today()
    handle = await stack.start_eol(
        product="Replay Legacy",
        announce_date=today + timedelta(days=2),
        end_of_sale=today + timedelta(days=5),
        end_of_support=today + timedelta(days=8),
        shutdown_date=today + timedelta(days=20),
        template={"notice_reminders": {"days_before_shutdown": [7]}},
    )
    await _until(lambda: _count(stack, handle, "notice_started") == 1, "the notice")
    notice = next(e for e in stack.trail(handle.id) if e.action == "notice_started").details["process"]
    await _until(lambda: _count(stack, notice, "review_requested") == 1, "the notice's review")
    for reviewer in ("vp@example.com", "legal@example.com"):
        await stack.client.get_workflow_handle(notice).execute_update(
            "decide", DecisionInput(gate="review", approver=reviewer, decision=Decision.APPROVE)
        )
    await _finish_tasks(handle)
    await stack.env.sleep(timedelta(days=18))
    await _until(lambda: _count(stack, handle, "gate_opened") == 1, "the last approval")
    for approver in ("vp@example.com", "legal@example.com"):
        await handle.execute_update(
            "decide", DecisionInput(gate="pull-the-plug", approver=approver, decision=Decision.APPROVE)
        )
    await stack.env.sleep(timedelta(days=4))
    await _until(lambda: _count(stack, handle, "milestone") >= 3, "the shutdown")
    await _finish_tasks(handle)
    await handle.result()
    return handle


async def _finish_tasks(handle: Handle) -> None:
    view = await handle.query("view", result_type=ProcessView)
    for item in view.items:
        if item.status == "open":
            await handle.execute_update("mark_item_done", ItemDoneInput(item=item.key, by=item.owner))


async def _cancel(handle: Handle, reason: str) -> Handle:
    await handle.execute_update("cancel", CancelInput(by="pm@example.com", reason=reason))
    await handle.result()
    return handle


async def launch_cancel_checklist(stack: Stack) -> Handle:
    """Cancelled during the checklist: people told, open issues closed."""
    handle = await stack.start_launch(days_ahead=20, product="Replay Cancel Checklist")
    await _until(lambda: _count(stack, handle, "issue_created") == 13, "the kickoff")
    await handle.execute_update("mark_item_done", ItemDoneInput(item="documentation", by="docs@example.com"))
    return await _cancel(handle, "Moved to next quarter.")


class BouncingMailer(OutboxMailer):
    """The outbox's mailer, refusing the addresses in `bouncing` (a 550), for a scenario to stop and start."""

    bouncing: ClassVar[set[str]] = set()

    def send(self, email: Email) -> Delivery:
        if self.bouncing & set(email.to):
            raise Refused(f"SMTP: the server refused {', '.join(sorted(self.bouncing & set(email.to)))}: 550")
        return super().send(email)


async def launch_resend(stack: Stack) -> Handle:
    """An owner's email refused, kept undelivered, sent again once the mailbox exists; an item marked done (its
    issue closed beside the story); cancelled."""
    BouncingMailer.bouncing = {"docs@example.com"}
    try:
        handle = await stack.start_launch(days_ahead=20, product="Replay Resend")
        await _until(lambda: _count(stack, handle, "delivery_failed") == 1, "the refused email")
    finally:
        BouncingMailer.bouncing = set()
    await _until(lambda: _count(stack, handle, "issue_created") == 13, "the kickoff")
    [undelivered] = (await handle.query("view", result_type=ProcessView)).undelivered
    await handle.execute_update("resend", ResendInput(key=undelivered.key, by="pm@example.com"))
    resent = [e for e in stack.trail(handle.id) if e.action == "message_sent" and e.details["to"] == undelivered.to]
    await _until(lambda: len(resent) < sum(1 for e in stack.trail(handle.id) if e.action == "message_sent"
                                           and e.details["to"] == undelivered.to), "the resend")  # fmt: skip
    await handle.execute_update("mark_item_done", ItemDoneInput(item="documentation", by="docs@example.com"))
    await _until(lambda: _count(stack, handle, "issue_transitioned") == 1, "the item's issue closed")
    return await _cancel(handle, "Moved to next quarter.")


async def launch_cancel_gate(stack: Stack) -> Handle:
    """Cancelled while the gate is open, after one approval: the undecided approver's request withdrawn."""
    handle = await stack.start_launch(days_ahead=2, product="Replay Cancel Gate")
    await _until(lambda: _count(stack, handle, "approval_requested") == 1, "the gate to open")
    await handle.execute_update(
        "decide", DecisionInput(gate="go-no-go", approver="vp@example.com", decision=Decision.APPROVE)
    )
    return await _cancel(handle, "Legal found a blocker.")


async def launch_reject_reopen(stack: Stack) -> Handle:
    """A rejection that reopens the gate (`on_reject: reopen`), then both approve in round 2."""
    handle = await stack.start_launch(days_ahead=2, product="Replay Reopen", gate={"on_reject": "reopen"})
    await _until(lambda: _count(stack, handle, "approval_requested") == 1, "round 1")
    await handle.execute_update(
        "decide",
        DecisionInput(gate="go-no-go", approver="legal@example.com", decision=Decision.REJECT, comment="Terms?"),
    )
    await _until(lambda: _count(stack, handle, "approval_requested") == 2, "round 2")
    for approver in ("vp@example.com", "legal@example.com"):
        await handle.execute_update(
            "decide", DecisionInput(gate="go-no-go", approver=approver, decision=Decision.APPROVE, round=2)
        )
    await handle.result()
    return handle


async def launch_expired(stack: Stack) -> Handle:
    """Nobody decides: held on launch day, then the gate expires."""
    handle = await stack.start_launch(days_ahead=2, product="Replay Expired")
    await _until(lambda: _count(stack, handle, "approval_requested") == 1, "the gate to open")
    await handle.result()
    return handle


async def comms_cancel_scheduled(stack: Stack) -> Handle:
    """Approved, waiting for its send time, cancelled before it: nothing sent."""
    now = await stack.env.get_current_time()
    handle = await stack.start_comms(subject="Replay scheduled", send_at=(now + timedelta(days=10)).isoformat())
    await _until(lambda: _count(stack, handle, "review_requested") == 1, "the review")
    for reviewer in ("cs@example.com", "eng@example.com"):
        await handle.execute_update(
            "decide", DecisionInput(gate="review", approver=reviewer, decision=Decision.APPROVE)
        )
    await _until(lambda: _count(stack, handle, "scheduled") == 1, "the send to be scheduled")
    return await _cancel(handle, "Maintenance moved.")


async def comms_expired(stack: Stack) -> Handle:
    """Nobody reviews: reminders, then the review expires and nothing is sent."""
    handle = await stack.start_comms(subject="Replay unreviewed")
    await _until(lambda: _count(stack, handle, "review_requested") == 1, "the review")
    await handle.result()
    return handle


async def postmortem_cancel_actions(stack: Stack) -> Handle:
    """Cancelled while its action items are tracked: the commander and owners told, issues closed."""
    handle = await stack.start_postmortem(incident="INC-REPLAY-CANCEL")
    await _until(lambda: _count(stack, handle, "issue_created") == 1, "the kickoff")
    items = [ActionItemSpec(title="Alert on error rate", owner="sre@example.com", priority="P2")]
    await handle.execute_update("add_action_items", ActionItemsInput(items=items, by="ic@example.com"))
    await handle.execute_update("mark_item_done", ItemDoneInput(item="draft", by="ic@example.com"))
    await _until(lambda: _count(stack, handle, "review_requested") == 1, "the review")
    await handle.execute_update(
        "decide", DecisionInput(gate="review", approver="cto@example.com", decision=Decision.APPROVE)
    )
    await _until(lambda: _count(stack, handle, "review_closed") == 1, "the review to close")
    return await _cancel(handle, "Duplicate of INC-1.")


async def eol_cancel_notice(stack: Stack) -> Handle:
    """Cancelled while its customer notice is in review: the notice is cancelled with it."""
    today = await stack.today()
    handle = await stack.start_eol(product="Replay Cancelled Legacy", announce_date=today + timedelta(days=2))
    await _until(lambda: _count(stack, handle, "notice_started") == 1, "the notice")
    notice = next(e for e in stack.trail(handle.id) if e.action == "notice_started").details["process"]
    await _until(lambda: _count(stack, notice, "review_requested") == 1, "the notice's review")
    return await _cancel(handle, "The product lives on.")


SCENARIOS: dict[str, Callable[[Stack], Awaitable[Handle]]] = {
    "launch": launch,
    "launch-cancel-checklist": launch_cancel_checklist,
    "launch-resend": launch_resend,
    "launch-cancel-gate": launch_cancel_gate,
    "launch-reject-reopen": launch_reject_reopen,
    "launch-expired": launch_expired,
    "comms": comms,
    "comms-cancel-scheduled": comms_cancel_scheduled,
    "comms-expired": comms_expired,
    "postmortem": postmortem,
    "postmortem-cancel-actions": postmortem_cancel_actions,
    "eol": eol,
    "eol-cancel-notice": eol_cancel_notice,
}
"""History file name (without ``.json``) → the run that makes it: ``KIND`` or ``KIND-PATH``. Beside each
kind's main path, the paths the shared gate, checklist and lifecycle take: cancel at each stage, a
rejection that reopens the gate, changes then a revision, expiry; a message refused, then resent."""
