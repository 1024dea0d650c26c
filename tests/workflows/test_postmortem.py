"""The post-mortem: the draft by a severity deadline, the review, action items to done or won't-do, the summary."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from config.templates import load_template
from domain.enums import Decision, ProcessStatus
from domain.postmortem import ActionItemsInput, ActionItemSpec
from domain.templates import PostmortemTemplate
from domain.updates import CancelInput, DecisionInput, IssueDoneInput, ItemDoneInput
from domain.views import ItemState, ProcessView
from tests.conftest import Stack
from tests.workflows.helpers import (
    Handle,
    advance_to,
    assert_trail_consistent,
    chats,
    emails,
    events,
    eventually,
    finished,
    issues,
    nine_utc,
    refusal,
    settled,
    transitioned,
)
from workflows.postmortem import PostmortemWorkflow

IC, CTO, SRE, DEV = "ic@example.com", "cto@example.com", "sre@example.com", "dev@example.com"


async def view_of(handle: Handle) -> ProcessView:
    view: ProcessView = await handle.query(PostmortemWorkflow.view)
    return view


async def step_is(handle: Handle, key: str, status: str) -> ProcessView:
    async def there() -> bool:
        return any(s.key == key and s.status == status for s in (await view_of(handle)).steps)

    await eventually(there, f"step {key} to be {status}")
    return await view_of(handle)


async def review_asked(stack: Stack, handle: Handle, round: int = 1) -> ProcessView:
    """Wait until round `round` of the review has reached the reviewer by email and in chat."""

    async def asked() -> bool:
        sent = [e for e in stack.trail(handle.id) if e.action == "message_sent"]
        return sum(e.details["template"].startswith("postmortem_review") for e in sent) >= 2 * round

    await eventually(asked, f"review round {round} to reach the reviewer")
    return await view_of(handle)


async def done(handle: Handle, item: str, by: str = IC, **extra: Any) -> ItemState:
    result: ItemState = await handle.execute_update(
        PostmortemWorkflow.mark_item_done, ItemDoneInput(item=item, by=by, **extra)
    )
    return result


async def review(handle: Handle, decision: Decision, comment: str = "") -> None:
    await handle.execute_update(
        PostmortemWorkflow.decide, DecisionInput(gate="review", approver=CTO, decision=decision, comment=comment)
    )
    await settled(handle)


async def add_items(handle: Handle, *specs: dict[str, Any]) -> list[ItemState]:
    """Add action items and wait until their issues are filed and their owners told (the update answers before
    that: tests/workflows/test_issues_filed_late.py); the items as the view then shows them."""
    added: list[ItemState] = await handle.execute_update(
        PostmortemWorkflow.add_action_items,
        ActionItemsInput(items=[ActionItemSpec.model_validate(s) for s in specs], by=IC),
    )
    await settled(handle)
    items = {item.key: item for item in (await view_of(handle)).items}
    return [items[item.key] for item in added]


async def test_a_post_mortem_from_draft_to_summary(stack: Stack) -> None:
    handle = await stack.start_postmortem()
    view = await step_is(handle, "draft", "active")
    [draft] = view.items
    resolved = date.fromisoformat(view.params["resolved_at"][:10])
    assert (draft.key, draft.owner, draft.due) == ("draft", IC, resolved + timedelta(days=5)), "SEV2: 5 days"
    [issue] = issues(stack.outbox(handle.id))
    assert issue.to == [IC] and draft.issue_key and view.links["issue"] == draft.issue_key
    [kickoff] = emails(stack.outbox(handle.id), "Post-mortem for")
    assert kickoff.to == sorted([IC, SRE]) and "blameless" in kickoff.body and "Root cause" in kickoff.body
    assert chats(stack.outbox(handle.id))[0].to == ["#incidents"]

    items = await add_items(
        handle,
        {"title": "Alert on payment error rate", "owner": SRE, "priority": "P1"},
        {"title": "Canary the payments deploy", "owner": DEV, "priority": "P3", "description": "Staged rollout."},
    )
    assert [(i.key, i.priority, i.issue_key is not None) for i in items] == [
        ("action-1", "P1", True),
        ("action-2", "P3", True),
    ]
    today = (await stack.env.get_current_time()).date()
    assert items[0].due == today + timedelta(days=7) and items[1].due == today + timedelta(days=30)
    assert emails(stack.outbox(handle.id), "Action item for you")[0].to in ([SRE], [DEV])

    await done(handle, "draft")
    await review_asked(stack, handle)
    [request] = emails(stack.outbox(handle.id), "Review the post-mortem")
    assert request.to == [CTO] and "Action items filed so far: 2." in request.body
    await review(handle, Decision.APPROVE)
    await step_is(handle, "actions", "active")

    await done(handle, "action-1", by=SRE)
    await done(handle, "action-2", by=DEV, resolution="wont_do", reason="Replaced by feature flags.")
    result = await finished(handle)

    assert result.status == ProcessStatus.COMPLETED and result.outcome == "1 action item done, 1 won't do"
    [summary] = emails(stack.outbox(handle.id), "closed: 1 action item done, 1 won't do")
    assert summary.to == sorted([IC, SRE, CTO])
    assert "Canary the payments deploy (dev@example.com, P3): won't do: Replaced by feature flags." in summary.body
    assert any("closed" in c.body for c in chats(stack.outbox(handle.id)))
    assert draft.issue_key in transitioned(stack.outbox(handle.id))
    assert_trail_consistent(stack.trail(handle.id), ProcessStatus.COMPLETED)


async def test_changes_requested_send_the_draft_back_and_ask_again(stack: Stack) -> None:
    handle = await stack.start_postmortem()
    await step_is(handle, "draft", "active")
    await done(handle, "draft")
    await review_asked(stack, handle)

    await review(handle, Decision.CHANGES, "Add the timeline.")

    view = await step_is(handle, "draft", "active")
    assert view.items[0].status == "open" and view.gates[0].status == "changes_requested"
    [told] = emails(stack.outbox(handle.id), f"{CTO} asked for changes to the post-mortem")
    assert told.to == [IC] and "Add the timeline." in told.body
    await done(handle, "draft")
    view = await review_asked(stack, handle, round=2)
    assert view.gates[0].round == 2
    await review(handle, Decision.APPROVE)

    result = await finished(handle)  # no action items: it closes once the review approves
    assert result.status == ProcessStatus.COMPLETED
    assert [e.details["round"] for e in events(stack.trail(handle.id), "review_requested")] == [1, 2]


async def test_a_late_draft_is_chased_by_severity_and_escalated(stack: Stack) -> None:
    handle = await stack.start_postmortem(severity="SEV1", owner="im@example.com")
    view = await step_is(handle, "draft", "active")
    due = view.items[0].due

    await advance_to(stack, nine_utc(due + timedelta(days=3)) + timedelta(hours=1))  # the escalation is 3 days late

    trail = stack.trail(handle.id)
    reminders = events(trail, "reminder", to=IC)
    assert [r.details["kind"] for r in reminders][:2] == ["reminder", "overdue"]
    assert all(r.at.date() >= due - timedelta(days=1) for r in reminders)
    [escalation] = events(trail, "escalation")
    assert escalation.at.date() == due + timedelta(days=3)
    [told] = emails(stack.outbox(handle.id), "1 item late")
    assert told.to == ["im@example.com"]
    await handle.execute_update(PostmortemWorkflow.cancel, CancelInput(by="im@example.com"))


async def test_action_items_are_chased_by_priority(stack: Stack) -> None:
    handle = await stack.start_postmortem()
    await step_is(handle, "draft", "active")
    [item] = await add_items(handle, {"title": "Fix the retry storm", "owner": SRE, "priority": "P1"})
    await done(handle, "draft")
    await review_asked(stack, handle)
    await review(handle, Decision.APPROVE)
    await step_is(handle, "actions", "active")

    await advance_to(stack, nine_utc(item.due) + timedelta(days=2, hours=1))

    reminders = [r for r in events(stack.trail(handle.id), "reminder", to=SRE) if "action-1" in r.details["items"]]
    assert [r.details["kind"] for r in reminders] == ["reminder", "reminder", "overdue", "overdue"]  # P1: 2d, 1d, daily
    await handle.execute_update(PostmortemWorkflow.cancel, CancelInput(by=IC))


async def test_the_tracker_closing_an_action_item_resolves_it(stack: Stack) -> None:
    handle = await stack.start_postmortem()
    await step_is(handle, "draft", "active")
    [item] = await add_items(handle, {"title": "Runbook for payments", "owner": SRE})
    assert item.issue_key
    await done(handle, "draft")
    await review_asked(stack, handle)
    await review(handle, Decision.APPROVE)

    await handle.execute_update(PostmortemWorkflow.issue_done, IssueDoneInput(issue=item.issue_key, by="jira"))

    result = await finished(handle)
    assert result.items[1].status == "done" and result.items[1].done_by == "jira"
    assert item.issue_key not in transitioned(stack.outbox(handle.id)), "the tracker said so: no transition back"


async def test_wont_do_needs_a_reason_and_the_draft_cannot_be_wont_do(stack: Stack) -> None:
    handle = await stack.start_postmortem()
    await step_is(handle, "draft", "active")
    await add_items(handle, {"title": "Rewrite payments", "owner": DEV})

    no_reason = await refusal(done(handle, "action-1", resolution="wont_do"))
    draft = await refusal(done(handle, "draft", resolution="wont_do", reason="no time"))
    unknown = await refusal(done(handle, "action-9"))

    assert "a reason is required" in no_reason.message
    assert "cancel the post-mortem instead" in draft.message
    assert unknown.type == "NotFound"
    await handle.execute_update(PostmortemWorkflow.cancel, CancelInput(by=IC))


async def test_cancel_tells_everyone_and_closes_the_issues(stack: Stack) -> None:
    handle = await stack.start_postmortem()
    await step_is(handle, "draft", "active")
    [item] = await add_items(handle, {"title": "Alerting", "owner": SRE})

    view = await handle.execute_update(PostmortemWorkflow.cancel, CancelInput(by=IC, reason="Duplicate of INC-1."))

    assert view.status == ProcessStatus.CANCELLED
    [ended] = emails(stack.outbox(handle.id), "cancelled")
    assert ended.to == sorted([IC, CTO, SRE]) and "Duplicate of INC-1." in ended.body
    assert set(transitioned(stack.outbox(handle.id))) == {item.issue_key, view.links["issue"]}
    await handle.result()  # (the trail's last rows are written after the answer)
    assert_trail_consistent(stack.trail(handle.id), ProcessStatus.CANCELLED)


async def test_a_retrospective_waits_for_its_day(stack: Stack) -> None:
    now = await stack.env.get_current_time()
    handle = await stack.start_postmortem(
        template="retrospective", severity=None, incident="launch-acme", title="Launch retrospective: Acme",
        starts_at=(now + timedelta(days=14)).isoformat(),
    )  # fmt: skip

    async def scheduled() -> bool:
        return any(e.action == "scheduled" for e in stack.trail(handle.id))

    await eventually(scheduled, "the retrospective to be scheduled")
    assert issues(stack.outbox(handle.id)) == []
    await stack.env.sleep(timedelta(days=14, minutes=1))
    view = await step_is(handle, "draft", "active")
    assert view.items[0].due == (now + timedelta(days=14 + 7)).date(), "the retrospective template: 7 days"
    [kickoff] = emails(stack.outbox(handle.id), "Post-mortem for launch-acme")
    assert "first weeks' usage and revenue against the goals" in kickoff.body
    await step_is(handle, "draft", "active")  # the kickoff is over: no activity in flight when it is cancelled
    await handle.execute_update(PostmortemWorkflow.cancel, CancelInput(by=IC))


async def test_the_incident_manager_may_review_the_commanders_draft(stack: Stack) -> None:
    handle = await stack.start_postmortem(owner="im@example.com", reviewers=["im@example.com"])
    await step_is(handle, "draft", "active")
    await done(handle, "draft")
    await review_asked(stack, handle)

    await handle.execute_update(
        PostmortemWorkflow.decide, DecisionInput(gate="review", approver="im@example.com", decision=Decision.APPROVE)
    )

    result = await finished(handle)
    assert result.status == ProcessStatus.COMPLETED


async def test_a_reopened_draft_whose_issue_stays_done_is_not_resubmitted_by_the_poll(stack: Stack) -> None:
    handle = await stack.start_postmortem()
    view = await step_is(handle, "draft", "active")
    issue = view.items[0].issue_key
    assert issue
    # the commander closed the post-mortem issue to hand the draft in; it stays Done in the tracker
    stack.store.record(f"tracker:closed-{issue}", handle.id, "tracker", [], f"{issue} → Done", "", {
        "issue_key": issue, "status": "Done",
    })  # fmt: skip
    await handle.execute_update(PostmortemWorkflow.issue_done, IssueDoneInput(issue=issue, by="jira"))
    await review_asked(stack, handle)
    await review(handle, Decision.CHANGES, "Add the timeline.")
    await step_is(handle, "draft", "active")

    await stack.env.sleep(timedelta(hours=13))  # past a reconciliation round

    view = await view_of(handle)
    assert view.items[0].status == "open" and view.gates[0].round == 1, "the draft waits for its author"
    await handle.execute_update(PostmortemWorkflow.cancel, CancelInput(by=IC))


async def test_action_items_of_a_priority_the_template_lacks_are_refused(stack: Stack) -> None:
    template = load_template("postmortem", "postmortem")
    assert isinstance(template, PostmortemTemplate)
    p2_only = {"P2": template.priorities["P2"].model_dump()}
    handle = await stack.start_postmortem(overrides={"priorities": p2_only})
    await step_is(handle, "draft", "active")

    error = await refusal(
        handle.execute_update(
            PostmortemWorkflow.add_action_items,
            ActionItemsInput(items=[ActionItemSpec(title="x", owner=SRE, priority="P1")], by=IC),
        )
    )

    assert error.type == "NotFound" and "no priority P1" in error.message
    assert [i.key for i in (await view_of(handle)).items] == ["draft"], "nothing was added"
    await handle.execute_update(PostmortemWorkflow.cancel, CancelInput(by=IC))
