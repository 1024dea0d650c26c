"""The runs whose histories are kept in `histories/`: one per process kind, through its main paths.

`python -m tests.replay.record` runs them on the time-skipping server and
saves each workflow's history; `test_replay.py` replays the saved files
against today's workflow code.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Iterator
from datetime import date, timedelta
from typing import Any, ClassVar

from temporalio.client import WorkflowHandle

from config.templates import load_template
from domain.edits import ApproverEdits, EditInput, NewItem
from domain.enums import Decision
from domain.errors import Refused
from domain.postmortem import ActionItemsInput, ActionItemSpec
from domain.requests import Delivery, IssueRef, IssueRequest
from domain.templates import EolTemplate
from domain.updates import (
    CancelInput,
    DecisionInput,
    DelegateInput,
    ItemDoneInput,
    RecoverInput,
    ResendInput,
    RevisionInput,
)
from domain.views import ProcessView
from integrations.outbox import OutboxMailer, OutboxTracker
from integrations.ports import Email
from integrations.store import Store
from tests.conftest import PUBLIC_URL, Stack

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
    """Kickoff (8 days out: its checklist compressed), reminders and an escalation, an item marked done, the gate
    approved by both, launch day with items open (launched with them), reminders after it, the rest done."""
    handle = await stack.start_launch(days_ahead=8, product="Replay Launch", retrospective=True)
    await _until(lambda: _count(stack, handle, "issue_created") == 13, "the kickoff")
    await handle.execute_update("mark_item_done", ItemDoneInput(item="documentation", by="docs@example.com"))
    await stack.env.sleep(timedelta(days=5, hours=12))
    await _until(lambda: _count(stack, handle, "approval_requested") >= 1, "the gate to open")
    for approver in ("vp@example.com", "legal@example.com"):
        await handle.execute_update(
            "decide", DecisionInput(gate="go-no-go", approver=approver, decision=Decision.APPROVE)
        )
    await stack.env.sleep(timedelta(days=7))
    await _until(lambda: _count(stack, handle, "launched_with_open_items") == 1, "launch day")
    await _finish_tasks(handle)
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
    notice = await _notice_in_review(stack, handle)
    await _approve_notice(stack, notice)
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


async def _notice_in_review(stack: Stack, handle: Handle) -> str:
    """The id of an end of life's first customer notice, once its reviewers have been asked."""
    await _until(lambda: _count(stack, handle, "notice_started") == 1, "the notice")
    notice: str = next(e for e in stack.trail(handle.id) if e.action == "notice_started").details["process"]
    await _until(lambda: _count(stack, notice, "review_requested") == 1, "the notice's review")
    return notice


async def _approve_notice(stack: Stack, notice: str) -> None:
    """Both reviewers approve the notice."""
    for reviewer in ("vp@example.com", "legal@example.com"):
        await stack.client.get_workflow_handle(notice).execute_update(
            "decide", DecisionInput(gate="review", approver=reviewer, decision=Decision.APPROVE)
        )


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


class HeldTracker(OutboxTracker):
    """The outbox's tracker, holding the creation of an issue whose summary contains `holding` until the scenario
    lets it go (`held_issues`): a slow Jira, for a scenario to act while an issue is on its way."""

    holding: ClassVar[str | None] = None
    begun: ClassVar[threading.Event] = threading.Event()
    released: ClassVar[threading.Event] = threading.Event()

    def __init__(self, store: Store) -> None:
        super().__init__(store, PUBLIC_URL)

    def create_issue(self, request: IssueRequest) -> IssueRef:
        if self.holding is not None and self.holding in request.summary and not self.released.is_set():
            self.begun.set()
            self.released.wait(timeout=20)
        return super().create_issue(request)


@contextlib.contextmanager
def held_issues(summary: str) -> Iterator[None]:
    """Hold the creation of issues whose summary contains `summary` until the block ends."""
    HeldTracker.begun.clear()
    HeldTracker.released.clear()
    HeldTracker.holding = summary
    try:
        yield
    finally:
        HeldTracker.released.set()
        HeldTracker.holding = None


async def launch_done_before_filed(stack: Stack) -> Handle:
    """Items resolved while the kickoff waits on the tracker (one done, one won't-do): their issues, filed after,
    closed as they were resolved; cancelled."""
    with held_issues("Launch:"):  # the epic: no item's issue is filed before it
        handle = await stack.start_launch(days_ahead=20, product="Replay Done Before Filed")
        await _until(HeldTracker.begun.is_set, "the epic's creation")
        await handle.execute_update("mark_item_done", ItemDoneInput(item="documentation", by="docs@example.com"))
        await handle.execute_update(
            "mark_item_done",
            ItemDoneInput(item="sales-enablement", by="pm@example.com", resolution="wont_do", reason="Self-serve."),
        )
    await _until(lambda: _count(stack, handle, "issue_transitioned") == 2, "the resolved items' issues closed")
    await _settled(handle, "kickoff")  # nothing in flight for the cancel to cancel: clear of a test server race
    return await _cancel(handle, "Moved to next quarter.")


async def _settled(handle: Handle, step: str, timeout: float = 30.0) -> None:
    """Wait until `step` is done and nothing runs beside the story (the `settling` query)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        view = await handle.query("view", result_type=ProcessView)
        done = any(s.key == step and s.status == "done" for s in view.steps)
        if done and await handle.query("settling", result_type=int) == 0:
            return
        if loop.time() > deadline:
            raise TimeoutError(f"timed out waiting for {step} to settle")
        await asyncio.sleep(0.05)


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
    await _finish_tasks(handle)  # before launch day: it ends there
    await handle.result()
    return handle


async def launch_expired(stack: Stack) -> Handle:
    """Nobody decides: held on launch day, then the gate expires."""
    handle = await stack.start_launch(days_ahead=2, product="Replay Expired")
    await _until(lambda: _count(stack, handle, "approval_requested") == 1, "the gate to open")
    await handle.result()
    return handle


async def launch_late_kickoff(stack: Stack) -> Handle:
    """Started 14 days out with the template's dates kept (`compress_when_late: false`): the kickoff names the
    late items and the owner hears at once of those past their escalation; cancelled."""
    handle = await stack.start_launch(
        days_ahead=14, product="Replay Late Kickoff", overrides={"compress_when_late": False}
    )
    await _until(lambda: _count(stack, handle, "escalation") == 1, "the escalation at kickoff")
    await _settled(handle, "kickoff")
    return await _cancel(handle, "Moved to next quarter.")


async def _launched_with_open_items(stack: Stack, product: str, **options: Any) -> Handle:
    """A launch 2 days out (its gate open at once, its checklist compressed), approved by both with every item
    open, past launch day."""
    handle = await stack.start_launch(days_ahead=2, product=product, **options)
    await _until(lambda: _count(stack, handle, "approval_requested") == 1, "the gate to open")
    for approver in ("vp@example.com", "legal@example.com"):
        await handle.execute_update(
            "decide", DecisionInput(gate="go-no-go", approver=approver, decision=Decision.APPROVE)
        )
    await stack.env.sleep(timedelta(days=2, hours=1))
    return handle


async def launch_closed_after_launch(stack: Stack) -> Handle:
    """Launched with its items open, chased after launch day, then closed (cancelled): the items dropped, the
    epic closed as done."""
    handle = await _launched_with_open_items(stack, "Replay Closed After Launch")
    await _until(lambda: _count(stack, handle, "launched_with_open_items") == 1, "launch day")
    await stack.env.sleep(timedelta(days=3))
    await _until(lambda: _count(stack, handle, "escalation") >= 1, "an escalation after launch day")
    return await _cancel(handle, "The rest is not needed.")


async def launch_open_items_retrospective(stack: Stack) -> Handle:
    """Launched with its items open, handed to its retrospective (`open_items_after_launch: retrospective`)."""
    handle = await _launched_with_open_items(
        stack, "Replay Handed Over", retrospective=True, overrides={"open_items_after_launch": "retrospective"}
    )
    await handle.result()
    return handle


async def postmortem_launch_items(stack: Stack) -> Handle:
    """A launch's retrospective given the launch's open items: kicked off 14 days after launch day, the items in
    its trail and their owners told; the draft approved, the items resolved (one as won't-do), the summary."""
    launch = await _launched_with_open_items(
        stack, "Replay Retro Items", retrospective=True, overrides={"open_items_after_launch": "retrospective"}
    )
    view = await launch.result()
    retro = stack.client.get_workflow_handle(view.links["retrospective"])
    await stack.env.sleep(timedelta(days=14, hours=1))
    await _until(lambda: _count(stack, retro, "action_item_added") == 12, "the retrospective's kickoff")
    await retro.execute_update("mark_item_done", ItemDoneInput(item="draft", by="pm@example.com"))
    await _until(lambda: _count(stack, retro, "review_requested") == 1, "the review")
    for reviewer in ("vp@example.com", "legal@example.com"):
        await retro.execute_update("decide", DecisionInput(gate="review", approver=reviewer, decision=Decision.APPROVE))
    await retro.execute_update(
        "mark_item_done",
        ItemDoneInput(item="action-1", by="pm@example.com", resolution="wont_do", reason="Overtaken by events."),
    )
    await _finish_tasks(retro)
    await retro.result()
    return retro


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


async def postmortem_actions_at_once(stack: Stack) -> Handle:
    """Action items answered while the tracker holds their issues: one accepted as won't-do before its issue
    exists (closed once filed); the draft approved, the other item done, the summary."""
    handle = await stack.start_postmortem(incident="INC-REPLAY-AT-ONCE")
    await _until(lambda: _count(stack, handle, "issue_created") == 1, "the kickoff")
    items = [
        ActionItemSpec(title="Alert on error rate", owner="sre@example.com", priority="P1"),
        ActionItemSpec(title="Canary deploys", owner="dev@example.com", priority="P3"),
    ]
    with held_issues("Alert on error rate"):
        await handle.execute_update("add_action_items", ActionItemsInput(items=items, by="ic@example.com"))
        await _until(HeldTracker.begun.is_set, "the first action item's issue")
        await handle.execute_update(
            "mark_item_done",
            ItemDoneInput(item="action-1", by="ic@example.com", resolution="wont_do", reason="Covered by SLOs."),
        )
    await _until(lambda: _count(stack, handle, "issue_created") == 3, "the action items' issues")
    await _until(lambda: _count(stack, handle, "issue_transitioned") == 1, "the won't-do item's issue closed")
    await handle.execute_update("mark_item_done", ItemDoneInput(item="draft", by="ic@example.com"))
    await _until(lambda: _count(stack, handle, "review_requested") == 1, "the review")
    await handle.execute_update(
        "decide", DecisionInput(gate="review", approver="cto@example.com", decision=Decision.APPROVE)
    )
    await handle.execute_update("mark_item_done", ItemDoneInput(item="action-2", by="dev@example.com"))
    await handle.result()
    return handle


async def eol_cancel_notice(stack: Stack) -> Handle:
    """Cancelled while its customer notice is in review: the notice is cancelled with it."""
    today = await stack.today()
    handle = await stack.start_eol(product="Replay Cancelled Legacy", announce_date=today + timedelta(days=2))
    await _notice_in_review(stack, handle)
    return await _cancel(handle, "The product lives on.")


async def eol_moved(stack: Stack) -> Handle:
    """Its notice approved, the end of support moved two days and the shutdown a week later: the reminder, the last
    approval and the shutdown at the new times; approved, shut down, retired."""
    today = await stack.today()
    handle = await stack.start_eol(
        product="Replay Moved Legacy",
        announce_date=today + timedelta(days=2),
        end_of_sale=today + timedelta(days=5),
        end_of_support=today + timedelta(days=8),
        shutdown_date=today + timedelta(days=20),
        template={"notice_reminders": {"days_before_shutdown": [7]},
                  "min_notice_days": {"end_of_sale": 2, "end_of_support": 2, "shutdown": 5}},
    )  # fmt: skip
    notice = await _notice_in_review(stack, handle)
    await _approve_notice(stack, notice)
    await handle.execute_update(
        "edit",
        EditInput(end_of_support=today + timedelta(days=10), shutdown_date=today + timedelta(days=27),
                  by="pm@example.com", reason="A big customer needs a week more."),
    )  # fmt: skip
    await _until(lambda: _count(stack, handle, "edited") == 1, "the edit")
    await _finish_tasks(handle)
    await stack.env.sleep(timedelta(days=25))
    await _until(lambda: _count(stack, handle, "gate_opened") == 1, "the last approval")
    for approver in ("vp@example.com", "legal@example.com"):
        await handle.execute_update(
            "decide", DecisionInput(gate="pull-the-plug", approver=approver, decision=Decision.APPROVE)
        )
    await stack.env.sleep(timedelta(days=3))
    await _until(lambda: _count(stack, handle, "milestone") >= 3, "the shutdown")
    await _finish_tasks(handle)
    await handle.result()
    return handle


async def launch_edited(stack: Stack) -> Handle:
    """Edited while it runs: moved three days later and an item reassigned while its reminders are pending, then an
    approver replaced while the gate is open (the new one asked); approved by the new approver and the other;
    cancelled before launch day."""
    handle = await stack.start_launch(days_ahead=8, product="Replay Edited")
    await _until(lambda: _count(stack, handle, "issue_created") == 13, "the kickoff")
    await _settled(handle, "kickoff")
    view = await handle.query("view", result_type=ProcessView)
    moved = date.fromisoformat(view.params["launch_date"]) + timedelta(days=3)
    await handle.execute_update(
        "edit",
        EditInput(launch_date=moved, owners={"documentation": "writer@example.com"}, by="pm@example.com",
                  reason="Legal needs three more days."),
    )  # fmt: skip
    await _until(lambda: _count(stack, handle, "edited") == 1, "the first edit")
    await stack.env.sleep(timedelta(days=8, hours=12))
    await _until(lambda: _count(stack, handle, "approval_requested") >= 1, "the gate to open")
    await handle.execute_update(
        "edit",
        EditInput(approvers=ApproverEdits(replace={"legal@example.com": "counsel@example.com"}), by="pm@example.com"),
    )
    await _until(lambda: _count(stack, handle, "approval_requested") >= 2, "the new approver asked")
    for approver in ("vp@example.com", "counsel@example.com"):
        await handle.execute_update(
            "decide", DecisionInput(gate="go-no-go", approver=approver, decision=Decision.APPROVE)
        )
    await _until(lambda: _count(stack, handle, "gate_closed") == 1, "the gate to close")
    return await _cancel(handle, "Replaced by the bundle launch.")


async def launch_moved_near(stack: Stack) -> Handle:
    """Moved from ten days away to two, so its gate opens at once: each approver asked once (patch
    ``launch-moved-asks-once``) and its items fitted into the two days left (``launch-moved-earlier``); cancelled
    at the gate."""
    handle = await stack.start_launch(days_ahead=10, product="Replay Moved Near")
    await _until(lambda: _count(stack, handle, "issue_created") == 13, "the kickoff")
    await _settled(handle, "kickoff")
    view = await handle.query("view", result_type=ProcessView)
    near = date.fromisoformat(view.params["launch_date"]) - timedelta(days=8)
    await handle.execute_update("edit", EditInput(launch_date=near, by="pm@example.com", reason="Ready early."))
    await _until(lambda: _count(stack, handle, "edited") == 1, "the edit")
    await _until(lambda: _count(stack, handle, "approval_requested") >= 1, "the gate to open")
    await _settled(handle, "kickoff")  # (done long since: this waits for the move's follow-ups)
    return await _cancel(handle, "Folded into the next release.")


async def launch_moved_earlier(stack: Stack) -> Handle:
    """The template's dates kept (`compress_when_late: false`), three days in (its first item a day late), moved
    from 27 days away to 5 with an item added: the late item keeps its date, the added one is due when the edit
    says (``edit-added-items-keep-their-dates``), and the owner hears at once of the items the move put past their
    escalation (``launch-moved-earlier``); cancelled. (Its compressing side is `launch-moved-near`'s.)"""
    handle = await stack.start_launch(
        days_ahead=30, product="Replay Moved Earlier", overrides={"compress_when_late": False}
    )
    await _until(lambda: _count(stack, handle, "issue_created") == 13, "the kickoff")
    await _settled(handle, "kickoff")
    await stack.env.sleep(timedelta(days=3))
    view = await handle.query("view", result_type=ProcessView)
    early = date.fromisoformat(view.params["launch_date"]) - timedelta(days=22)
    added = NewItem(title="Press kit", owner="writer@example.com", due=early - timedelta(days=1))
    await handle.execute_update(
        "edit", EditInput(launch_date=early, add_items=[added], by="pm@example.com", reason="Ready early.")
    )
    await _until(lambda: _count(stack, handle, "escalation") == 1, "the escalation of what the move made late")
    await _until(lambda: _count(stack, handle, "issue_created") == 14, "the added item's issue")
    await _settled(handle, "kickoff")  # (done long since: this waits for the move's follow-ups)
    return await _cancel(handle, "Folded into the next release.")


async def launch_items_edited(stack: Stack) -> Handle:
    """Its checklist edited while it runs: an item added (its issue filed, its owner told, reminded) and another
    removed (won't-do, its issue closed) while their reminders are pending; the added item done, then cancelled
    before its gate opens."""
    handle = await stack.start_launch(days_ahead=20, product="Replay Items Edited")
    await _until(lambda: _count(stack, handle, "issue_created") == 13, "the kickoff")
    await _settled(handle, "kickoff")
    view = await handle.query("view", result_type=ProcessView)
    due = date.fromisoformat(view.params["launch_date"]) - timedelta(days=5)
    await handle.execute_update(
        "edit",
        EditInput(add_items=[NewItem(title="Pricing page", owner="writer@example.com", due=due)],
                  remove_items=["documentation"], by="pm@example.com", reason="Docs ship with the next release."),
    )  # fmt: skip
    await _until(lambda: _count(stack, handle, "issue_created") == 14, "the added item's issue")
    await _until(lambda: _count(stack, handle, "edited") == 1, "the edit")
    await stack.env.sleep(timedelta(days=13))
    await _until(lambda: _count(stack, handle, "reminder") >= 1, "a reminder")
    await handle.execute_update("mark_item_done", ItemDoneInput(item="pricing-page", by="writer@example.com"))
    return await _cancel(handle, "Replaced by the bundle launch.")


async def launch_delegated(stack: Stack) -> Handle:
    """An approver hands their decision to a deputy, who approves on their behalf; the other is silent and the
    gate's backup is asked in their place a day later, and approves on their behalf; cancelled before launch day."""
    handle = await stack.start_launch(
        days_ahead=3, product="Replay Delegated", gate={"backup": "backup@example.com", "escalate_after_days": 1}
    )
    await _until(lambda: _count(stack, handle, "approval_requested") == 1, "the gate to open")
    await handle.execute_update(
        "delegate",
        DelegateInput(gate="go-no-go", approver="legal@example.com", to="deputy@example.com", note="On leave."),
    )
    await _until(lambda: _count(stack, handle, "approval_requested") == 2, "the deputy asked")
    await handle.execute_update(
        "decide",
        DecisionInput(gate="go-no-go", approver="deputy@example.com", on_behalf_of="legal@example.com",
                      decision=Decision.APPROVE),
    )  # fmt: skip
    await stack.env.sleep(timedelta(days=1, hours=1))
    await _until(lambda: _count(stack, handle, "delegated") == 2, "the backup asked")
    await handle.execute_update(
        "decide",
        DecisionInput(gate="go-no-go", approver="backup@example.com", on_behalf_of="vp@example.com",
                      decision=Decision.APPROVE),
    )  # fmt: skip
    await _until(lambda: _count(stack, handle, "gate_closed") == 1, "the gate to close")
    return await _cancel(handle, "Moved to the spring release.")


async def launch_backups(stack: Stack) -> Handle:
    """Legal's own backup (`backups`) asked a day into the gate in their place, and approving on their behalf;
    the gate's backup is the VP, an approver, so passed over for ops, silent too (one person, one decision:
    ``backup_passed_over``); the VP and ops approve as themselves; cancelled before launch day."""
    handle = await stack.start_launch(
        days_ahead=3, product="Replay Backups", backups={"legal@example.com": "deputy@example.com"},
        approvers=["vp@example.com", "legal@example.com", "ops@example.com"],
        gate={"backup": "vp@example.com", "escalate_after_days": 1},
    )  # fmt: skip
    await _until(lambda: _count(stack, handle, "approval_requested") == 1, "the gate to open")
    await stack.env.sleep(timedelta(days=1, hours=1))
    await _until(lambda: _count(stack, handle, "delegated") == 1, "the backup asked")
    await _until(lambda: _count(stack, handle, "backup_passed_over") == 1, "the gate's backup passed over")
    deciding = (("deputy@example.com", "legal@example.com"), ("vp@example.com", None), ("ops@example.com", None))
    for approver, on_behalf_of in deciding:
        await handle.execute_update(
            "decide",
            DecisionInput(gate="go-no-go", approver=approver, on_behalf_of=on_behalf_of, decision=Decision.APPROVE),
        )
    await _until(lambda: _count(stack, handle, "gate_closed") == 1, "the gate to close")
    return await _cancel(handle, "Moved to the spring release.")


async def launch_rerun_gate(stack: Stack) -> Handle:
    """A rejection held for the owner (`on_reject: owner`), who asks again with a reason; both approve round 2."""
    handle = await stack.start_launch(days_ahead=2, product="Replay Rerun", gate={"on_reject": "owner"})
    await _until(lambda: _count(stack, handle, "approval_requested") == 1, "round 1")
    await handle.execute_update(
        "decide",
        DecisionInput(gate="go-no-go", approver="legal@example.com", decision=Decision.REJECT, comment="Terms?"),
    )
    await _until(lambda: _count(stack, handle, "step_held") == 1, "the hold")
    await handle.execute_update(
        "recover", RecoverInput(step="go-no-go", action="rerun", reason="Terms fixed.", by="pm@example.com")
    )
    await _until(lambda: _count(stack, handle, "approval_requested") == 2, "round 2")
    for approver in ("vp@example.com", "legal@example.com"):
        await handle.execute_update(
            "decide", DecisionInput(gate="go-no-go", approver=approver, decision=Decision.APPROVE, round=2)
        )
    await _finish_tasks(handle)  # before launch day: it ends there
    await handle.result()
    return handle


async def eol_notice_skipped(stack: Stack) -> Handle:
    """Its customer notice rejected and held for the owner (`notice_hold_days`), who goes on without it: the end
    of sale comes; cancelled."""
    today = await stack.today()
    handle = await stack.start_eol(product="Replay Skipped Notice", announce_date=today + timedelta(days=2))
    notice = await _notice_in_review(stack, handle)
    await stack.client.get_workflow_handle(notice).execute_update(
        "decide", DecisionInput(gate="review", approver="legal@example.com", decision=Decision.REJECT, comment="No.")
    )
    await _until(lambda: _count(stack, handle, "step_held") == 1, "the hold")
    await handle.execute_update(
        "recover", RecoverInput(step="notice", action="skip", reason="Told by hand.", by="pm@example.com")
    )
    await stack.env.sleep(timedelta(days=31))
    await _until(lambda: _count(stack, handle, "milestone") >= 1, "the end of sale")
    return await _cancel(handle, "Enough.")


async def _rejected_and_held(stack: Stack, product: str) -> Handle:
    """A launch whose go / no-go legal rejects, held for its owner (`on_reject: owner`)."""
    handle = await stack.start_launch(days_ahead=2, product=product, gate={"on_reject": "owner"})
    await _until(lambda: _count(stack, handle, "approval_requested") == 1, "round 1")
    await handle.execute_update(
        "decide",
        DecisionInput(gate="go-no-go", approver="legal@example.com", decision=Decision.REJECT, comment="Terms?"),
    )
    await _until(lambda: _count(stack, handle, "step_held") == 1, "the hold")
    return handle


async def launch_hold_ended(stack: Stack) -> Handle:
    """A rejection held for the owner, who ends the launch (``step_ended``): rejected."""
    handle = await _rejected_and_held(stack, "Replay Hold Ended")
    await handle.execute_update(
        "recover", RecoverInput(step="go-no-go", action="end", reason="Not this quarter.", by="pm@example.com")
    )
    await handle.result()
    return handle


async def launch_hold_expired(stack: Stack) -> Handle:
    """A rejection held for the owner, who says nothing until the hold ends (``hold_expired``): rejected."""
    handle = await _rejected_and_held(stack, "Replay Hold Expired")
    await stack.env.sleep(timedelta(days=8))
    await handle.result()
    return handle


async def eol_notice_rerun(stack: Stack) -> Handle:
    """Its customer notice rejected and held for the owner, who sends a new one (``notice again 1``, a second
    `comms` child); approved by both, it goes out; cancelled after."""
    today = await stack.today()
    handle = await stack.start_eol(product="Replay Notice Again", announce_date=today + timedelta(days=2))
    first = await _notice_in_review(stack, handle)
    await stack.client.get_workflow_handle(first).execute_update(
        "decide", DecisionInput(gate="review", approver="legal@example.com", decision=Decision.REJECT, comment="No.")
    )
    await _until(lambda: _count(stack, handle, "step_held") == 1, "the hold")
    await handle.execute_update(
        "recover", RecoverInput(step="notice", action="rerun", reason="Wording fixed.", by="pm@example.com")
    )
    await _until(lambda: _count(stack, handle, "notice_started") == 2, "the new notice")
    again = [e for e in stack.trail(handle.id) if e.action == "notice_started"][1].details["process"]
    await _until(lambda: _count(stack, again, "review_requested") == 1, "the new notice's review")
    for approver in ("vp@example.com", "legal@example.com"):
        await stack.client.get_workflow_handle(again).execute_update(
            "decide", DecisionInput(gate="review", approver=approver, decision=Decision.APPROVE)
        )
    await stack.env.sleep(timedelta(days=3))
    await _until(lambda: _count(stack, handle, "notice_sent") == 1, "the notice sent")
    return await _cancel(handle, "Enough.")


async def _last_approval_rejected(stack: Stack, product: str, on_reject: str) -> Handle:
    """An end of life shut down in 20 days (its notice approved, its tasks done) whose last approval legal rejects
    (the template's gate with `on_reject`)."""
    today = await stack.today()
    loaded = load_template("eol", "eol")
    assert isinstance(loaded, EolTemplate)
    handle = await stack.start_eol(
        product=product,
        announce_date=today + timedelta(days=2),
        end_of_sale=today + timedelta(days=5),
        end_of_support=today + timedelta(days=8),
        shutdown_date=today + timedelta(days=20),
        template={"notice_reminders": {"days_before_shutdown": []},
                  "min_notice_days": {"end_of_sale": 2, "end_of_support": 2, "shutdown": 5},
                  "gate": loaded.gate.model_dump() | {"on_reject": on_reject}},
    )  # fmt: skip
    notice = await _notice_in_review(stack, handle)
    await _approve_notice(stack, notice)
    await _finish_tasks(handle)
    await stack.env.sleep(timedelta(days=18))
    await _until(lambda: _count(stack, handle, "gate_opened") == 1, "the last approval")
    await handle.execute_update(
        "decide",
        DecisionInput(gate="pull-the-plug", approver="legal@example.com", decision=Decision.REJECT, comment="Not yet."),
    )
    return handle


async def _approve_round_2_and_cancel(stack: Stack, handle: Handle) -> Handle:
    """Both approve the second round of the last approval, if it opens (before `decide_gate`, a reopen ended the
    process rejected); then it is cancelled, if it still runs."""
    await _until(
        lambda: _count(stack, handle, "gate_opened") == 2 or _count(stack, handle, "rejected") == 1,
        "round 2 or the end",
    )
    if _count(stack, handle, "gate_opened") == 2:
        for approver in ("vp@example.com", "legal@example.com"):
            await handle.execute_update(
                "decide", DecisionInput(gate="pull-the-plug", approver=approver, decision=Decision.APPROVE, round=2)
            )
        return await _cancel(handle, "Shut down by hand.")
    await handle.result()
    return handle


async def eol_gate_held(stack: Stack) -> Handle:
    """Its last approval rejected and held for the owner (`on_reject: owner`), who moves the shutdown a week later
    and asks again; both approve round 2 (expiring as the moved shutdown says: patch
    ``eol-gate-rounds-follow-the-plan``); cancelled."""
    handle = await _last_approval_rejected(stack, "Replay Plug Held", "owner")
    await _until(lambda: _count(stack, handle, "step_held") == 1, "the hold")
    shutdown = (await stack.today()) + timedelta(days=9)  # (today is the gate's opening: 3 days before the shutdown)
    await handle.execute_update("edit", EditInput(shutdown_date=shutdown, by="pm@example.com"))
    await handle.execute_update(
        "recover", RecoverInput(step="pull-the-plug", action="rerun", reason="Moved a week.", by="pm@example.com")
    )
    return await _approve_round_2_and_cancel(stack, handle)


async def eol_gate_reopen(stack: Stack) -> Handle:
    """Its last approval rejected with `on_reject: reopen`: asked again at once, both approve (before patch
    ``eol-gate-rounds-follow-the-plan``: rejected); cancelled."""
    handle = await _last_approval_rejected(stack, "Replay Plug Reopen", "reopen")
    return await _approve_round_2_and_cancel(stack, handle)


async def comms_reviewers_passed_on(stack: Stack) -> Handle:
    """A customer notice (the history saved is the notice's) in review when its end of life's legal is replaced by
    counsel: it takes the change its parent passes on (signal `edit_passed_on`), counsel is asked; the end of life
    cancelled, and the notice with it."""
    handle = await stack.start_eol(product="Replay Reviewers Passed On")
    notice = await _notice_in_review(stack, handle)
    await handle.execute_update(
        "edit",
        EditInput(approvers=ApproverEdits(replace={"legal@example.com": "counsel@example.com"}), by="pm@example.com"),
    )
    await _until(lambda: _count(stack, notice, "edited") == 1, "the notice's edit")
    await _cancel(handle, "Kept alive after all.")
    child: Handle = stack.client.get_workflow_handle(notice)
    await child.result()
    return child


async def comms_reviewers_kept(stack: Stack) -> Handle:
    """A customer notice (the history saved is the notice's) approved, waiting for its send time, when its end of
    life's legal is replaced: it keeps its reviewers and says why (``edit_refused``); cancelled with the end of
    life."""
    today = await stack.today()
    handle = await stack.start_eol(product="Replay Reviewers Kept", announce_date=today + timedelta(days=2))
    notice = await _notice_in_review(stack, handle)
    await _approve_notice(stack, notice)
    await handle.execute_update(
        "edit",
        EditInput(approvers=ApproverEdits(replace={"legal@example.com": "counsel@example.com"}), by="pm@example.com"),
    )
    await _until(lambda: _count(stack, notice, "edit_refused") == 1, "the notice's refusal")
    await _cancel(handle, "Kept alive after all.")
    child: Handle = stack.client.get_workflow_handle(notice)
    await child.result()
    return child


async def eol_approvers_edited(stack: Stack) -> Handle:
    """Its notice in review, legal replaced by counsel: the notice is passed the change (patch
    ``eol-notices-follow-approvers``: before it, the web service passed it on, outside the history); cancelled."""
    handle = await stack.start_eol(product="Replay Approvers Edited")
    await _notice_in_review(stack, handle)
    await handle.execute_update(
        "edit",
        EditInput(approvers=ApproverEdits(replace={"legal@example.com": "counsel@example.com"}), by="pm@example.com"),
    )
    await _until(lambda: _count(stack, handle, "edited") == 1, "the edit")
    return await _cancel(handle, "Kept alive after all.")


SCENARIOS: dict[str, Callable[[Stack], Awaitable[Handle]]] = {
    "launch": launch,
    "launch-cancel-checklist": launch_cancel_checklist,
    "launch-resend": launch_resend,
    "launch-done-before-filed": launch_done_before_filed,
    "launch-cancel-gate": launch_cancel_gate,
    "launch-reject-reopen": launch_reject_reopen,
    "launch-expired": launch_expired,
    "launch-late-kickoff": launch_late_kickoff,
    "launch-closed-after-launch": launch_closed_after_launch,
    "launch-open-items-retrospective": launch_open_items_retrospective,
    "launch-edited": launch_edited,
    "launch-moved-near": launch_moved_near,
    "launch-moved-earlier": launch_moved_earlier,
    "launch-delegated": launch_delegated,
    "launch-backups": launch_backups,
    "launch-items-edited": launch_items_edited,
    "comms": comms,
    "comms-cancel-scheduled": comms_cancel_scheduled,
    "comms-expired": comms_expired,
    "postmortem": postmortem,
    "postmortem-cancel-actions": postmortem_cancel_actions,
    "postmortem-actions-at-once": postmortem_actions_at_once,
    "postmortem-launch-items": postmortem_launch_items,
    "eol": eol,
    "eol-cancel-notice": eol_cancel_notice,
    "eol-moved": eol_moved,
    "launch-rerun-gate": launch_rerun_gate,
    "eol-notice-skipped": eol_notice_skipped,
    "eol-notice-rerun": eol_notice_rerun,
    "launch-hold-ended": launch_hold_ended,
    "launch-hold-expired": launch_hold_expired,
    "eol-gate-held": eol_gate_held,
    "eol-gate-reopen": eol_gate_reopen,
    "eol-approvers-edited": eol_approvers_edited,
    "comms-reviewers-passed-on": comms_reviewers_passed_on,
    "comms-reviewers-kept": comms_reviewers_kept,
}
"""History file name (without ``.json``) → the run that makes it: ``KIND`` or ``KIND-PATH``. Beside each kind's main
path, the paths the shared gate, checklist and lifecycle take: cancel at each stage, a rejection that reopens the
gate, changes then a revision, expiry; a message refused, then resent; items resolved before their issues are filed,
and action items answered before theirs are; a launch started late (compressed in the main path, its late items
named and escalated at kickoff in another), and one launched with items open (chased after launch day in the main
path, closed while chased, handed to its retrospective, which takes them); a launch edited (moved, an item
reassigned, an approver replaced), its checklist edited (an item added, one removed), its decision delegated, and
asked of backups (an approver's own, the gate's passed over); an end of life whose shutdown is moved, or whose
approvers change while its notice is in review; a rejected gate held for its owner and asked again, ended by them,
or left until the hold ends (an end of life's last approval held, its shutdown moved, asked again; or reopened); a
rejected notice held and skipped, or sent again as a new notice; a launch moved so near that its gate opens at once."""
