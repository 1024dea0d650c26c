"""Adding and removing checklist items of a running launch or end of life (update `edit`: ``add_items``,
``remove_items``): an item added gets its issue, its reminders and its place in the view; an item removed is
kept as won't-do with the reason, its issue closed, and no longer reminded; what may not change is refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from domain.edits import Edited, EditInput, NewItem
from domain.updates import ItemDoneInput
from tests.conftest import Stack
from tests.workflows.helpers import (
    DOCS,
    OWNER,
    Handle,
    Launch,
    advance_to,
    due_moment,
    emails,
    events,
    kicked_off,
    naming,
    nine_utc,
    refusal,
    settled,
    view_of,
)
from workflows.launch import LaunchWorkflow

DAY = timedelta(days=1)
WRITER = "writer@example.com"


async def edit(handle: Handle, **changes: Any) -> Edited:
    """Edit as the owner, and wait for what the edit set going beside the story."""
    edited: Edited = await handle.execute_update(LaunchWorkflow.edit, EditInput(by=OWNER, **changes))
    await settled(handle)
    return edited


def resolutions(stack: Stack, handle: Handle) -> dict[str, str]:
    """Issue key → the resolution it was closed with, from what the outbox's tracker recorded."""
    moves = [o for o in stack.outbox(handle.id) if o.channel == "tracker" and " → " in o.subject]
    return {o.meta["issue_key"]: o.meta["resolution"] for o in moves}


async def test_an_item_added_gets_its_issue_its_reminders_and_shows_in_the_view(launch: Launch, stack: Stack) -> None:
    handle = await launch(days_ahead=30)
    view = await kicked_off(handle)
    due = (due_moment(view, "documentation") + 5 * DAY).date()

    edited = await edit(
        handle, add_items=[NewItem(title="Pricing page", owner=WRITER, due=due)], reason="Sales asked for it."
    )
    after = await view_of(handle)
    await advance_to(stack, nine_utc(due) + timedelta(hours=1))
    trail = stack.trail(handle.id)

    [change] = edited.changes
    assert change.what == "added:pricing-page" and change.after == {"title": "Pricing page", "owner": WRITER,
                                                                     "due": due.isoformat()}  # fmt: skip
    item = next(i for i in after.items if i.key == "pricing-page")
    assert (item.owner, item.due, item.status) == (WRITER, due, "open") and item.issue_key
    assert events(trail, "issue_created", issue=item.issue_key)
    assert naming(trail, "reminder", "pricing-page"), "the new item is reminded of"
    assert all(e.details["to"] == WRITER for e in naming(trail, "reminder", "pricing-page"))
    [edited_event] = events(trail, "edited")
    assert edited_event.details["changes"][0]["what"] == "added:pricing-page"
    told = emails(stack.outbox(handle.id), "Changed:")
    assert any(e.to == [WRITER] and "Pricing page" in e.body for e in told)


async def test_an_item_removed_is_wont_do_with_the_reason_its_issue_closed_and_not_reminded(
    launch: Launch, stack: Stack
) -> None:
    handle = await launch(days_ahead=30)
    view = await kicked_off(handle)
    first_reminder = due_moment(view, "documentation") - 3 * DAY

    edited = await edit(handle, remove_items=["documentation"], reason="Docs ship later.")
    await advance_to(stack, first_reminder + timedelta(hours=1))
    after = await view_of(handle)
    trail = stack.trail(handle.id)

    [change] = edited.changes
    assert (change.what, change.before, change.after) == ("removed:documentation", "open", "wont_do")
    item = next(i for i in after.items if i.key == "documentation")
    assert item.status == "wont_do" and item.note == f"removed by {OWNER}: Docs ship later."
    assert item.issue_key and resolutions(stack, handle) == {item.issue_key: "wont_do"}
    assert events(trail, "item_wont_do", item="documentation")
    assert naming(trail, "reminder", "documentation") == [], "a removed item is reminded of no more"
    told = emails(stack.outbox(handle.id), "Changed:")
    assert any(e.to == [DOCS] and "nothing more is needed from you" in e.body for e in told)


async def test_an_unknown_or_resolved_item_a_past_due_date_and_an_eols_task_refusals(
    launch: Launch, stack: Stack
) -> None:
    handle = await launch(days_ahead=30)
    await kicked_off(handle)
    today = await stack.today()
    await handle.execute_update(LaunchWorkflow.mark_item_done, ItemDoneInput(item="documentation", by=DOCS))
    await settled(handle)

    unknown = await refusal(handle.execute_update(LaunchWorkflow.edit, EditInput(remove_items=["nope"])))
    done = await refusal(handle.execute_update(LaunchWorkflow.edit, EditInput(remove_items=["documentation"])))
    past = await refusal(
        handle.execute_update(
            LaunchWorkflow.edit, EditInput(add_items=[NewItem(title="Late", owner=WRITER, due=today - DAY)])
        )
    )
    comms = await stack.start_comms()
    no_items = await refusal(comms.execute_update("edit", EditInput(remove_items=["documentation"])))

    assert unknown.type == "InvalidField" and "remove_items" in unknown.message and "'nope'" in unknown.message
    assert done.type == "Conflict" and "done already" in done.message
    assert past.type == "InvalidField" and "add_items.0.due" in past.message and "in the past" in past.message
    assert no_items.type == "InvalidField" and "remove_items" in no_items.message
    assert events(stack.trail(handle.id), "edited") == []


async def test_an_end_of_lifes_task_added_and_one_removed(stack: Stack) -> None:
    handle = await stack.start_eol()
    view = await kicked_off(handle)
    task = view.items[0]

    edited = await edit(
        handle,
        add_items=[NewItem(title="Migrate customers", owner=WRITER, due=await stack.today() + 10 * DAY)],
        remove_items=[task.key],
    )
    after = await view_of(handle)

    assert sorted(c.what for c in edited.changes) == ["added:migrate-customers", f"removed:{task.key}"]
    added = next(i for i in after.items if i.key == "migrate-customers")
    assert added.issue_key and added.owner == WRITER
    assert next(i for i in after.items if i.key == task.key).status == "wont_do"
    assert task.issue_key and resolutions(stack, handle) == {task.issue_key: "wont_do"}
