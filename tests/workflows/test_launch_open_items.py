"""A launch approved with items open (issue #14): it says so, its checklist stays open, and the items are chased
after launch day until resolved, or handed to its retrospective when the template says so."""

from __future__ import annotations

from datetime import timedelta

from domain.enums import ProcessStatus
from domain.updates import CancelInput
from domain.views import ProcessView
from tests.conftest import Stack
from tests.workflows.helpers import (
    DOCS,
    ITEMS,
    LEGAL,
    OWNER,
    VP,
    advance_to,
    assert_trail_consistent,
    decide,
    emails,
    events,
    eventually,
    finished,
    gate_open,
    launch_moment,
    mark_done,
    naming,
    transitioned,
    view_of,
)
from workflows.launch import LaunchWorkflow
from workflows.postmortem import PostmortemWorkflow

DAY = timedelta(days=1)


def steps(view: ProcessView) -> dict[str, str]:
    return {step.key: step.status for step in view.steps}


async def test_approved_with_open_items_it_launches_and_keeps_chasing_them(stack: Stack) -> None:
    handle = await stack.start_launch(days_ahead=2)
    view = await gate_open(handle, stack)
    await mark_done(handle, "release-plan", "legal-review")
    await decide(handle, VP)
    await decide(handle, LEGAL)
    launch_at = launch_moment(view)

    await advance_to(stack, launch_at + timedelta(hours=1))
    view = await view_of(handle)
    trail = stack.trail(handle.id)
    assert view.status == ProcessStatus.RUNNING
    assert view.outcome == "launched with 10 open items"
    assert steps(view) == {"kickoff": "done", "checklist": "active", "go-no-go": "done", "launch-day": "done"}
    assert emails(stack.outbox(handle.id), "is launched"), "the announcement went out on launch day"
    [launched] = events(trail, "launched_with_open_items")
    assert len(launched.details["items"]) == 10 and "legal-review" not in launched.details["items"]
    assert events(trail, "completed") == []
    assert view.links["epic"] not in transitioned(stack.outbox(handle.id)), "the epic stays open with its items"

    # Reminders go on after launch day: the owners while overdue, the owner once an item is escalated.
    await advance_to(stack, launch_at + 5 * DAY)
    trail = stack.trail(handle.id)
    after = [e for e in trail if e.action in ("reminder", "escalation") and e.at > launch_at]
    assert {e.action for e in after} == {"reminder", "escalation"}
    assert any(e.details.get("to") == DOCS for e in after if e.action == "reminder")
    assert all(e.at < launch_at for e in naming(trail, "reminder", "release-plan")), "an item done is not reminded"
    await mark_done(handle, "documentation")
    assert (await view_of(handle)).outcome == "launched with 9 open items"

    await mark_done(handle, *[key for key in ITEMS if key not in ("release-plan", "legal-review", "documentation")])
    result = await finished(handle)

    trail = stack.trail(handle.id)
    assert result.status == ProcessStatus.COMPLETED
    assert result.outcome == "launched; 10 items resolved after launch day"
    assert set(steps(result).values()) == {"done"}
    assert transitioned(stack.outbox(handle.id)).count(result.links["epic"]) == 1, "closed once every item was"
    assert trail[-1].action == "completed" and trail[-1].step == "checklist"
    assert_trail_consistent(trail, ProcessStatus.COMPLETED)


async def test_closed_after_launch_day_the_epic_is_done_and_the_open_items_dropped(stack: Stack) -> None:
    handle = await stack.start_launch(days_ahead=2)
    view = await gate_open(handle, stack)
    await decide(handle, VP)
    await decide(handle, LEGAL)
    await advance_to(stack, launch_moment(view) + timedelta(hours=1))

    await handle.execute_update(LaunchWorkflow.cancel, CancelInput(by=OWNER, reason="The rest is not needed."))
    result = await finished(handle)

    assert result.status == ProcessStatus.CANCELLED
    assert steps(result) == {"kickoff": "done", "checklist": "skipped", "go-no-go": "done", "launch-day": "done"}
    [ended] = emails(stack.outbox(handle.id), "closed after launch day")
    assert "has been closed after launch day by pm@example.com" in " ".join(ended.body.split())
    closes = events(stack.trail(handle.id), "issue_transitioned")
    epic = [e for e in closes if e.details.get("issue") == result.links["epic"]]
    assert len(closes) == 13 and len(epic) == 1
    assert "resolution" not in epic[0].details, "the epic is closed as done: the launch happened"
    assert all(e.details["resolution"] == "won't do" for e in closes if e not in epic)


async def test_open_items_go_to_the_retrospective_when_the_template_says_so(stack: Stack) -> None:
    handle = await stack.start_launch(
        days_ahead=2, retrospective=True, overrides={"open_items_after_launch": "retrospective"}
    )
    await gate_open(handle, stack)
    await mark_done(handle, "release-plan")
    await decide(handle, VP)
    await decide(handle, LEGAL)

    result = await finished(handle)

    assert result.status == ProcessStatus.COMPLETED
    assert result.outcome == "launched with 11 open items, handed to the retrospective"
    assert steps(result) == {
        "kickoff": "done",
        "checklist": "handed_over",
        "go-no-go": "done",
        "launch-day": "done",
    }
    retro_id = result.links["retrospective"]
    trail = stack.trail(handle.id)
    [scheduled] = events(trail, "retrospective_scheduled")
    assert len(scheduled.details["items"]) == 11 and "release-plan" not in scheduled.details["items"]
    assert trail[-1].action == "completed" and trail[-1].details["retrospective"] == retro_id
    assert result.links["epic"] in transitioned(stack.outbox(handle.id))
    assert_trail_consistent(trail, ProcessStatus.COMPLETED)

    retro = stack.client.get_workflow_handle(retro_id)
    retro_view: ProcessView = await retro.query(PostmortemWorkflow.view)
    handed = {i.key: i for i in result.items if i.status == "open"}
    actions = [i for i in retro_view.items if i.key != "draft"]
    assert [(a.key, a.title, a.owner, a.issue_key) for a in actions] == [
        (f"action-{n}", i.title, i.owner, i.issue_key) for n, i in enumerate(handed.values(), start=1)
    ]
    assert {a.priority for a in actions} == {"P2"} and all(a.status == "open" for a in actions)

    # The retrospective kicks off 14 days after launch day: the items are in its trail, their owners told.
    await advance_to(stack, launch_moment(result) + timedelta(days=14, hours=1))

    async def taken() -> bool:
        return len(events(stack.trail(retro_id), "action_item_added")) == 11

    await eventually(taken, "the retrospective to take the launch's items")
    added = events(stack.trail(retro_id), "action_item_added")
    assert [e.details["launch_item"] for e in added] == list(handed)
    assert {e.details["launch"] for e in added} == {handle.id}
    [docs] = [e for e in emails(stack.outbox(retro_id), "Action item") if e.to == [DOCS]]
    assert "Product documentation" in docs.body and "Release notes" in docs.body

    # Done in the retrospective, the launch's own issue is closed.
    await mark_done(retro, "action-1")
    assert handed["pricing-billing"].issue_key in transitioned(stack.outbox(retro_id))
    await retro.terminate("test over")


async def test_without_a_retrospective_the_open_items_stay_tracked(stack: Stack) -> None:
    handle = await stack.start_launch(days_ahead=2, overrides={"open_items_after_launch": "retrospective"})
    view = await gate_open(handle, stack)
    await decide(handle, VP)
    await decide(handle, LEGAL)

    await advance_to(stack, launch_moment(view) + timedelta(hours=1))
    view = await view_of(handle)

    assert view.status == ProcessStatus.RUNNING and view.outcome == "launched with 12 open items"
    assert steps(view)["checklist"] == "active" and "retrospective" not in view.links
    await handle.terminate("test over")
