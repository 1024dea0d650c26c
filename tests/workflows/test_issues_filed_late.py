"""Issues filed after their item moved on: an item resolved before its issue exists, action items answered first.

A tracker that holds its issue creations until the test lets them go stands
for a slow or failing Jira: what the process answers meanwhile, and what it
does with an issue that comes back for an item already done or won't-do.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from domain.enums import ProcessStatus
from domain.postmortem import ActionItemsInput, ActionItemSpec
from domain.requests import IssueRef, IssueRequest
from domain.updates import CancelInput, ItemDoneInput
from domain.views import ItemState, ProcessView
from integrations.outbox import OutboxTracker
from integrations.store import Store
from tests.conftest import PUBLIC_URL, Stack, running_stack
from tests.workflows.helpers import (
    DOCS,
    OWNER,
    assert_trail_consistent,
    emails,
    events,
    eventually,
    issues,
    kicked_off,
    settled,
    transitioned,
)
from workflows.launch import LaunchWorkflow
from workflows.postmortem import PostmortemWorkflow

Handle = WorkflowHandle[Any, Any]
IC, SRE, DEV = "ic@example.com", "sre@example.com", "dev@example.com"


class HeldTracker(OutboxTracker):
    """The outbox's tracker, holding every issue creation whose summary contains `holding` until `release`
    (at most 20 s: a test that forgets fails on its own asserts, not by a hung worker)."""

    def __init__(self, store: Store) -> None:
        super().__init__(store, PUBLIC_URL)
        self.holding: str | None = None
        self.begun = threading.Event()
        self.released = threading.Event()

    def hold(self, summary: str) -> None:
        self.holding = summary
        self.begun.clear()
        self.released.clear()

    def release(self) -> None:
        self.released.set()

    async def has_begun(self, what: str) -> None:
        async def begun() -> bool:
            return self.begun.is_set()

        await eventually(begun, what)

    def create_issue(self, request: IssueRequest) -> IssueRef:
        if self.holding is not None and self.holding in request.summary:
            self.begun.set()
            self.released.wait(timeout=20)
        return super().create_issue(request)


@pytest.fixture
async def held(env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[tuple[Stack, HeldTracker]]:
    trackers: list[HeldTracker] = []

    def build(store: Store) -> HeldTracker:
        trackers.append(HeldTracker(store))
        return trackers[0]

    async with running_stack(env, tmp_path, tracker=build) as stack:
        yield stack, trackers[0]
        trackers[0].release()


def resolutions(stack: Stack, handle: Handle) -> dict[str, str]:
    """Issue key → the resolution it was closed with, from what the outbox's tracker recorded."""
    moves = [o for o in stack.outbox(handle.id) if o.channel == "tracker" and " → " in o.subject]
    return {o.meta["issue_key"]: o.meta["resolution"] for o in moves}


# ---- a launch's items, resolved before the kickoff files their issues ----------------------------------------


async def test_items_resolved_before_their_issues_are_filed_get_them_closed(
    held: tuple[Stack, HeldTracker],
) -> None:
    stack, tracker = held
    tracker.hold("Launch:")  # the epic: no item's issue is filed before it
    handle = await stack.start_launch(days_ahead=30)
    await tracker.has_begun("the epic's creation")

    done = await handle.execute_update(LaunchWorkflow.mark_item_done, ItemDoneInput(item="documentation", by=DOCS))
    dropped = await handle.execute_update(
        LaunchWorkflow.mark_item_done,
        ItemDoneInput(item="sales-enablement", by=OWNER, resolution="wont_do", reason="Self-serve product."),
    )
    assert (done.status, done.issue_key) == ("done", None)
    assert (dropped.status, dropped.issue_key) == ("wont_do", None)
    tracker.release()
    view = await kicked_off(handle)

    items = {i.key: i for i in view.items}
    documentation, sales = items["documentation"].issue_key, items["sales-enablement"].issue_key
    assert documentation and sales, "the issues are filed all the same"
    assert sorted(transitioned(stack.outbox(handle.id))) == sorted([documentation, sales])
    assert resolutions(stack, handle) == {documentation: "done", sales: "wont_do"}
    trail = stack.trail(handle.id)
    [closed] = events(trail, "issue_transitioned", issue=documentation)
    [closed_dropped] = events(trail, "issue_transitioned", issue=sales, resolution="won't do")
    [filed] = events(trail, "issue_created", issue=documentation)
    assert filed.seq < closed.seq and closed.step == closed_dropped.step == "checklist"
    [moved] = [o for o in stack.outbox(handle.id) if o.subject == f"{sales} → Done"]
    assert moved.body == f"Marked won't do by {OWNER}. Self-serve product."

    await handle.execute_update(LaunchWorkflow.cancel, CancelInput(by=OWNER))
    await handle.result()  # (the trail's last rows are written after the answer)
    assert_trail_consistent(stack.trail(handle.id), ProcessStatus.CANCELLED)


# ---- a post-mortem's action items, answered before their issues are filed ------------------------------------


async def postmortem_view(handle: Handle) -> ProcessView:
    view: ProcessView = await handle.query(PostmortemWorkflow.view)
    return view


async def draft_active(handle: Handle) -> None:
    async def active() -> bool:
        return any(s.key == "draft" and s.status == "active" for s in (await postmortem_view(handle)).steps)

    await eventually(active, "the draft step")
    await settled(handle)


async def recorded(stack: Stack, handle: Handle, action: str) -> bool:
    return bool(events(stack.trail(handle.id), action))


def adding(*specs: dict[str, Any]) -> ActionItemsInput:
    return ActionItemsInput(items=[ActionItemSpec.model_validate(s) for s in specs], by=IC)


async def test_action_items_are_answered_while_the_tracker_holds_their_issues(
    held: tuple[Stack, HeldTracker],
) -> None:
    stack, tracker = held
    handle = await stack.start_postmortem()
    await draft_active(handle)
    tracker.hold("Alert on payment error rate")

    answer: list[ItemState] = await asyncio.wait_for(
        handle.execute_update(
            PostmortemWorkflow.add_action_items,
            adding(
                {"title": "Alert on payment error rate", "owner": SRE, "priority": "P1"},
                {"title": "Canary the payments deploy", "owner": DEV, "priority": "P3"},
            ),
        ),
        timeout=10,
    )

    assert [(i.key, i.owner, i.status, i.issue_key) for i in answer] == [
        ("action-1", SRE, "open", None),
        ("action-2", DEV, "open", None),
    ], "recorded and answered, the issues still to come"
    await tracker.has_begun("the first action item's issue")
    view = await postmortem_view(handle)
    assert [(i.key, i.issue_key) for i in view.items[1:]] == [("action-1", None), ("action-2", None)]
    assert emails(stack.outbox(handle.id), "Action item for you") == [], "owners hear of their items once filed"

    tracker.release()
    await settled(handle)

    view = await postmortem_view(handle)
    keys = [i.issue_key for i in view.items[1:]]
    assert all(keys) and len(set(keys)) == 2
    filed = {o.subject: o for o in issues(stack.outbox(handle.id))}
    assert set(filed) >= {f"{item.title} ({view.params['incident']})" for item in view.items[1:]}
    told = emails(stack.outbox(handle.id), "Action item for you")
    assert sorted(tuple(o.to) for o in told) == [(DEV,), (SRE,)]
    assert all(key and key in "".join(o.body for o in told) for key in keys), "the email names the issue"
    trail = stack.trail(handle.id)
    added = events(trail, "action_item_added")
    created = [e for e in events(trail, "issue_created") if e.details["issue"] in keys]
    assert [e.details["item"] for e in added] == ["action-1", "action-2"]
    assert max(e.seq for e in added) < min(e.seq for e in created)
    await handle.execute_update(PostmortemWorkflow.cancel, CancelInput(by=IC))


async def test_an_action_item_resolved_before_its_issue_is_filed_gets_it_closed(
    held: tuple[Stack, HeldTracker],
) -> None:
    stack, tracker = held
    handle = await stack.start_postmortem()
    await draft_active(handle)
    tracker.hold("Rewrite payments")
    await handle.execute_update(
        PostmortemWorkflow.add_action_items, adding({"title": "Rewrite payments", "owner": DEV, "priority": "P3"})
    )
    await tracker.has_begun("the action item's issue")

    item = await handle.execute_update(
        PostmortemWorkflow.mark_item_done,
        ItemDoneInput(item="action-1", by=IC, resolution="wont_do", reason="Replaced by flags."),
    )
    assert (item.status, item.issue_key) == ("wont_do", None)
    tracker.release()
    await settled(handle)

    [action] = (await postmortem_view(handle)).items[1:]
    assert action.issue_key and action.status == "wont_do"
    assert resolutions(stack, handle) == {action.issue_key: "wont_do"}
    [closed] = events(stack.trail(handle.id), "issue_transitioned", issue=action.issue_key)
    assert closed.step == "actions" and closed.details["resolution"] == "won't do"
    await handle.execute_update(PostmortemWorkflow.cancel, CancelInput(by=IC))


async def test_a_cancel_while_an_action_items_issue_is_filed_closes_it_and_files_no_more(
    held: tuple[Stack, HeldTracker],
) -> None:
    stack, tracker = held
    handle = await stack.start_postmortem()
    await draft_active(handle)
    tracker.hold("Alerting")
    await handle.execute_update(
        PostmortemWorkflow.add_action_items,
        adding({"title": "Alerting", "owner": SRE}, {"title": "Runbooks", "owner": DEV}),
    )
    await tracker.has_begun("the first action item's issue")

    cancelling = asyncio.create_task(
        handle.execute_update(PostmortemWorkflow.cancel, CancelInput(by=IC, reason="Duplicate of INC-1."))
    )
    await eventually(lambda: recorded(stack, handle, "cancelled"), "the cancel to be recorded")
    tracker.release()
    view: ProcessView = await asyncio.wait_for(cancelling, timeout=30)

    assert view.status == ProcessStatus.CANCELLED
    first, second = view.items[1:]
    assert first.issue_key and second.issue_key is None, "the second item is not filed after the cancel"
    assert set(transitioned(stack.outbox(handle.id))) == {first.issue_key, view.links["issue"]}
    assert resolutions(stack, handle)[first.issue_key] == "wont_do"
    assert emails(stack.outbox(handle.id), "Action item for you") == []
    await settled(handle)
    assert_trail_consistent(stack.trail(handle.id), ProcessStatus.CANCELLED)
