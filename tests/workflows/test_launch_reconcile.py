"""The reconciliation poll: an issue closed in the tracker, with no webhook, still ticks its item."""

from __future__ import annotations

from datetime import timedelta

from integrations.outbox import OutboxTracker
from tests.conftest import PUBLIC_URL, Stack
from tests.workflows.helpers import Launch, events, kicked_off, view_of

EVERY = timedelta(hours=12)  # the template's tracker.reconcile_every_hours


def close_in_tracker(stack: Stack, process_id: str, issue_key: str) -> None:
    """What a person closing the issue in Jira looks like to the outbox tracker."""
    stack.store.record(
        f"someone-closed:{issue_key}",
        process_id,
        "tracker",
        [],
        f"{issue_key} → Done",
        "closed by hand",
        {"issue_key": issue_key, "status": "Done"},
    )


async def test_an_issue_closed_in_the_tracker_is_noticed_within_a_round(launch: Launch, stack: Stack) -> None:
    handle = await launch(days_ahead=30)
    view = await kicked_off(handle)
    docs = next(i for i in view.items if i.key == "documentation")
    assert docs.issue_key
    close_in_tracker(stack, handle.id, docs.issue_key)

    await stack.env.sleep(EVERY + timedelta(minutes=5))

    view = await view_of(handle)
    status = {i.key: i.status for i in view.items}
    assert status["documentation"] == "done"
    assert [k for k, s in status.items() if s == "done"] == ["documentation"]
    [done] = events(stack.trail(handle.id), "item_done")
    assert (done.actor, done.channel, done.details["item"]) == ("tracker (reconciliation)", "jira", "documentation")
    assert events(stack.trail(handle.id), "issue_transitioned") == [], "the tracker already has it done"


async def test_nothing_changes_while_the_tracker_has_nothing_done(launch: Launch, stack: Stack) -> None:
    handle = await launch(days_ahead=30)
    await kicked_off(handle)
    await stack.env.sleep(3 * EVERY)
    view = await view_of(handle)
    assert all(i.status == "open" for i in view.items)
    assert events(stack.trail(handle.id), "item_done") == []


def test_the_outbox_tracker_reports_what_it_saw_closed(stack: Stack) -> None:
    tracker = OutboxTracker(stack.store, PUBLIC_URL)
    close_in_tracker(stack, "p", "LAUNCH-7")
    assert tracker.issue_statuses(["LAUNCH-7", "LAUNCH-8"]) == {"LAUNCH-7": "done", "LAUNCH-8": "new"}
