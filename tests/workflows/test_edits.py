"""Editing a running launch (update `edit`): its date moved, an approver replaced or removed, an item reassigned.

Each edit at a different stage: before the gate, while a reminder is pending, while the gate is open, after
an approver was reminded. The timers follow a moved date; the old approver's link stops deciding; the tracker
issue and the reminders follow an item's new owner.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from domain.edits import ApproverEdits, Edited, EditInput
from domain.enums import Decision, GateStatus
from domain.updates import DecisionInput
from tests.conftest import Stack
from tests.workflows.helpers import (
    DOCS,
    GATE,
    LEGAL,
    OWNER,
    STAKEHOLDER,
    VP,
    Handle,
    Launch,
    advance_to,
    at_moment,
    decide,
    due_moment,
    emails,
    events,
    gate_moment,
    gate_open,
    gate_opens,
    kicked_off,
    launch_date,
    launch_moment,
    naming,
    nine_utc,
    refusal,
    sent,
    settled,
    view_of,
)
from workflows.launch import LaunchWorkflow

DAY = timedelta(days=1)
WRITER = "writer@example.com"
COUNSEL = "counsel@example.com"


async def edit(handle: Handle, **changes: Any) -> Edited:
    """Edit as the owner, and wait for what the edit set going beside the story (the trail, the tracker, mail)."""
    edited: Edited = await handle.execute_update(LaunchWorkflow.edit, EditInput(by=OWNER, **changes))
    await settled(handle)
    return edited


def tracker_updates(stack: Stack, handle: Handle) -> list[dict[str, Any]]:
    """What the outbox's tracker recorded of issue updates (not creations nor transitions)."""
    return [o.meta for o in stack.outbox(handle.id) if o.channel == "tracker" and "assignee" in o.meta]


# ---- the launch moves -----------------------------------------------------------------------


async def test_a_launch_moved_while_a_reminder_is_pending_reminds_at_the_new_time(launch: Launch, stack: Stack) -> None:
    handle = await launch(days_ahead=30)
    before = await kicked_off(handle)
    old, new = launch_date(before), launch_date(before) + 7 * DAY
    old_reminder = due_moment(before, "documentation") - 3 * DAY  # the first reminder, not yet sent

    edited = await edit(handle, launch_date=new, reason="Legal needs a week.")
    after = await view_of(handle)
    await advance_to(stack, old_reminder + timedelta(hours=1))
    early = naming(stack.trail(handle.id), "reminder", "documentation")
    await advance_to(stack, old_reminder + 7 * DAY + timedelta(hours=1))
    trail = stack.trail(handle.id)

    [change] = edited.changes
    assert (change.what, change.before, change.after) == ("launch_date", old.isoformat(), new.isoformat())
    assert after.id == before.id == handle.id, "a moved launch keeps its id"
    assert after.params["launch_date"] == new.isoformat() and str(new) in after.title
    assert {i.key: i.due - 7 * DAY for i in after.items} == {i.key: i.due for i in before.items}
    assert [m.at for m in after.plan][:2] == [gate_opens(new), nine_utc(new)]
    assert early == [], "nothing at the old time"
    [reminder] = naming(trail, "reminder", "documentation")
    assert at_moment(reminder.at, old_reminder + 7 * DAY) and reminder.details["to"] == DOCS
    [edited_event] = events(trail, "edited")
    assert (edited_event.actor, edited_event.details["reason"]) == (OWNER, "Legal needs a week.")
    assert edited_event.details["changes"][0]["before"] == old.isoformat()
    updates = tracker_updates(stack, handle)
    epic = after.links["epic"]
    assert {u["issue_key"]: u["due"] for u in updates} == {
        epic: new.isoformat(),
        **{i.issue_key: i.due.isoformat() for i in after.items if i.issue_key},
    }
    told = emails(stack.outbox(handle.id), "Changed:")
    assert any(e.to == [DOCS] and "Product documentation" in e.body for e in told), "each owner hears their dates"
    assert any(set(e.to) >= {OWNER, VP, LEGAL, STAKEHOLDER} and "Legal needs a week." in e.body for e in told)


async def test_a_moved_launch_opens_its_gate_and_launches_on_the_new_day(launch: Launch, stack: Stack) -> None:
    handle = await launch(days_ahead=10)
    before = await kicked_off(handle)
    new = launch_date(before) + 2 * DAY  # its gate opens a day before the old launch day

    await edit(handle, launch_date=new)
    await advance_to(stack, gate_moment(before) + timedelta(hours=1))
    not_yet = events(stack.trail(handle.id), "gate_opened")
    await advance_to(stack, gate_opens(new) + timedelta(hours=1))
    opened = events(stack.trail(handle.id), "gate_opened")
    await decide(handle, VP)
    await decide(handle, LEGAL)
    await advance_to(stack, launch_moment(before) + timedelta(hours=1))
    early = sent(stack.trail(handle.id), "announcement")
    await advance_to(stack, nine_utc(new) + timedelta(hours=1))
    announced = sent(stack.trail(handle.id), "announcement")

    assert not_yet == [] and len(opened) == 1 and at_moment(opened[0].at, gate_opens(new))
    assert early == [], "not launched on the old day"
    assert len(announced) == 1 and at_moment(announced[0].at, nine_utc(new))


async def test_a_launch_moved_so_near_that_its_gate_opens_at_once_asks_each_approver_once(
    launch: Launch, stack: Stack
) -> None:
    """A review's finding: moved from weeks away to two days away, the gate opened (asking both approvers) and the
    move's follow-up asked them again, a second of apart."""
    handle = await launch(days_ahead=10)
    before = await kicked_off(handle)
    new = launch_date(before) - 8 * DAY  # two days from today: the gate (three days before) opens at once

    await edit(handle, launch_date=new)
    await gate_open(handle, stack)
    await settled(handle)
    trail = stack.trail(handle.id)

    assert len(events(trail, "gate_opened")) == 1
    asked = [a for e in events(trail, "approval_requested") for a in e.details["approvers"]]
    assert sorted(asked) == sorted([VP, LEGAL]), f"each approver asked once, not {asked}"
    assert len([e for e in emails(stack.outbox(handle.id), "Go / no-go") if e.to == [VP]]) == 1


async def test_a_move_while_the_gate_is_open_moves_its_expiry_and_sends_new_links(launch: Launch, stack: Stack) -> None:
    handle = await launch(days_ahead=2)
    view = await gate_open(handle, stack)
    await decide(handle, VP)
    new = launch_date(view) + 4 * DAY

    edited = await edit(handle, launch_date=new)
    after = await view_of(handle)
    await advance_to(stack, launch_moment(view) + timedelta(hours=1))
    held_early = events(stack.trail(handle.id), "launch_on_hold")
    await advance_to(stack, nine_utc(new) + timedelta(hours=1))
    held = events(stack.trail(handle.id), "launch_on_hold")

    assert "the open gate's expiry" in edited.changes[0].sentence
    gate = after.gates[0]
    assert gate.status == GateStatus.OPEN and gate.expires_at == nine_utc(new) + 7 * DAY
    asked = events(stack.trail(handle.id), "approval_requested", asked_by=OWNER)
    assert [e.details["approvers"] for e in asked] == [[LEGAL]], "who is still to decide gets a link valid longer"
    assert held_early == [] and len(held) == 1 and at_moment(held[0].at, nine_utc(new))


async def test_a_date_in_the_past_unchanged_or_after_the_gate_is_decided_is_refused(
    launch: Launch, stack: Stack
) -> None:
    handle = await launch(days_ahead=2)
    view = await gate_open(handle, stack)
    today = (await stack.env.get_current_time()).date()

    past = await refusal(handle.execute_update(LaunchWorkflow.edit, EditInput(launch_date=today - DAY)))
    same = await refusal(handle.execute_update(LaunchWorkflow.edit, EditInput(launch_date=launch_date(view))))
    await decide(handle, VP)
    await decide(handle, LEGAL)
    decided = await refusal(handle.execute_update(LaunchWorkflow.edit, EditInput(launch_date=today + 9 * DAY)))

    assert past.type == "InvalidField" and "launch_date" in past.message and "in the past" in past.message
    assert same.type == "InvalidField" and "already" in same.message
    assert decided.type == "Conflict" and "can no longer move" in decided.message
    assert events(stack.trail(handle.id), "edited") == []


# ---- who decides -------------------------------------------------------------------------


async def test_an_approver_replaced_after_a_reminder_is_refused_and_the_new_one_is_asked(
    launch: Launch, stack: Stack
) -> None:
    handle = await launch(days_ahead=3)
    view = await gate_open(handle, stack)
    opened = view.gates[0].opened_at
    assert opened is not None
    await advance_to(stack, opened + DAY + timedelta(hours=1))  # the first reminder went out
    [reminded] = events(stack.trail(handle.id), "approval_reminder")
    assert LEGAL in reminded.details["approvers"]

    edited = await edit(handle, approvers=ApproverEdits(replace={LEGAL: COUNSEL}), reason="Legal is on leave.")
    old_link = await refusal(
        handle.execute_update(
            LaunchWorkflow.decide, DecisionInput(gate=GATE, approver=LEGAL, decision=Decision.APPROVE)
        )
    )
    await advance_to(stack, opened + 2 * DAY + timedelta(hours=1))
    trail = stack.trail(handle.id)
    await decide(handle, COUNSEL)
    gate = await decide(handle, VP)

    assert edited.changes[0].before == [VP, LEGAL] and edited.changes[0].after == [VP, COUNSEL]
    assert old_link.type == "Expired" and "no longer an approver" in old_link.message
    assert events(trail, "approval_requested", asked_by=OWNER)[0].details["approvers"] == [COUNSEL]
    second = events(trail, "approval_reminder")[-1]
    assert second.details["approvers"] == [VP, COUNSEL], "reminders go to the new approver, not the old one"
    assert gate.status == GateStatus.APPROVED and gate.removed == [LEGAL]
    outbox = stack.outbox(handle.id)
    assert any(e.to == [COUNSEL] and "/approve/" in e.body for e in emails(outbox, "Go / no-go"))
    assert any(e.to == [LEGAL] and "no longer asked" in e.body for e in emails(outbox, "Changed:"))
    assert (await view_of(handle)).params["approvers"] == [VP, COUNSEL]


async def test_removing_the_approver_still_to_decide_settles_the_gate_and_a_quorum_is_kept(
    launch: Launch, stack: Stack
) -> None:
    quorum = await launch(days_ahead=2, policy=2)
    await gate_open(quorum, stack)
    too_few = await refusal(
        quorum.execute_update(LaunchWorkflow.edit, EditInput(approvers=ApproverEdits(remove=[LEGAL])))
    )
    not_one = await refusal(
        quorum.execute_update(LaunchWorkflow.edit, EditInput(approvers=ApproverEdits(remove=[COUNSEL])))
    )
    owner = await refusal(quorum.execute_update(LaunchWorkflow.edit, EditInput(approvers=ApproverEdits(add=[OWNER]))))

    handle = await launch(days_ahead=2, approvers=[VP, LEGAL, COUNSEL])
    await gate_open(handle, stack)
    await decide(handle, VP)
    await decide(handle, COUNSEL)
    await edit(handle, approvers=ApproverEdits(remove=[LEGAL]))
    view = await view_of(handle)

    assert too_few.type == "Conflict" and "needs 2 approvals" in too_few.message
    assert not_one.type == "InvalidField" and "approvers.remove" in not_one.message
    assert owner.type == "InvalidField" and "cannot decide" in owner.message
    assert view.gates[0].status == GateStatus.APPROVED, "every approver left has approved"


# ---- who owns what -------------------------------------------------------------------------


async def test_an_item_reassigned_moves_its_issue_and_its_reminders_to_the_new_owner(
    launch: Launch, stack: Stack
) -> None:
    handle = await launch(days_ahead=30)
    view = await kicked_off(handle)
    first_reminder = due_moment(view, "documentation") - 3 * DAY

    edited = await edit(handle, owners={"documentation": WRITER})
    unknown = await refusal(handle.execute_update(LaunchWorkflow.edit, EditInput(owners={"nope": WRITER})))
    await advance_to(stack, first_reminder + timedelta(hours=1))
    trail = stack.trail(handle.id)

    [change] = edited.changes
    assert (change.what, change.before, change.after) == ("owner:documentation", DOCS, WRITER)
    assert unknown.type == "InvalidField" and "owners.nope" in unknown.message
    item = next(i for i in (await view_of(handle)).items if i.key == "documentation")
    assert item.owner == WRITER
    assert [(u["issue_key"], u["assignee"]) for u in tracker_updates(stack, handle)] == [(item.issue_key, WRITER)]
    assert events(trail, "issue_updated", issue=item.issue_key, assignee=WRITER)
    [reminder] = naming(trail, "reminder", "documentation")
    assert reminder.details["to"] == WRITER
    told = emails(stack.outbox(handle.id), "Changed:")
    assert any(e.to == [WRITER] and "Product documentation" in e.body for e in told)
    assert any(e.to == [DOCS] and "nothing more is needed from you" in e.body for e in told)


# ---- a message: its send time, its reviewers ------------------------------------------------


async def test_a_messages_send_time_moved_while_it_waits_sends_at_the_new_time(stack: Stack) -> None:
    now = await stack.env.get_current_time()
    handle = await stack.start_comms(send_at=(now + 3 * DAY).isoformat())
    await gate_open(handle, stack)  # (a message's review: `review_requested` is its gate's opening)
    for reviewer in ("cs@example.com", "eng@example.com"):
        await handle.execute_update(
            "decide", DecisionInput(gate="review", approver=reviewer, decision=Decision.APPROVE)
        )
    await settled(handle)
    later = now + 5 * DAY

    edited: Edited = await handle.execute_update("edit", EditInput(by=OWNER, send_at=later), result_type=Edited)
    await settled(handle)
    await advance_to(stack, now + 3 * DAY + timedelta(hours=1))
    early = events(stack.trail(handle.id), "batch_sent")
    result = await handle.result()

    assert edited.changes[0].what == "send_at" and result.params["send_at"].startswith(later.date().isoformat())
    assert result.id == handle.id
    assert early == [], "nothing at the old time"
    [batch] = events(stack.trail(handle.id), "batch_sent")
    assert at_moment(batch.at, later)


async def test_a_messages_replaced_reviewer_takes_the_role_and_a_launch_date_is_refused(stack: Stack) -> None:
    handle = await stack.start_comms()
    await gate_open(handle, stack)

    no_date = await refusal(handle.execute_update("edit", EditInput(launch_date=(await stack.today()) + 9 * DAY)))
    await handle.execute_update(
        "edit", EditInput(by=OWNER, approvers=ApproverEdits(replace={"eng@example.com": "sre@example.com"}))
    )
    await settled(handle)
    view = await view_of(handle)

    assert no_date.type == "InvalidField" and "a message has no launch date" in no_date.message
    assert view.params["reviewers"] == [
        {"email": "cs@example.com", "role": "Customer Success"},
        {"email": "sre@example.com", "role": "Engineering"},
    ]
    assert view.gates[0].approvers == ["cs@example.com", "sre@example.com"]


async def test_an_end_of_lifes_task_reassigned_and_its_approvers_changed_before_its_gate(stack: Stack) -> None:
    handle = await stack.start_eol()
    view = await kicked_off(handle)
    task = view.items[0]

    edited = await edit(
        handle,
        owners={task.key: WRITER},
        approvers=ApproverEdits(replace={LEGAL: COUNSEL}),
    )
    after = await view_of(handle)
    moved = await refusal(handle.execute_update("edit", EditInput(launch_date=task.due + 30 * DAY)))

    notice = after.links["notice-1"]  # (under way: it is passed the change, tests/workflows/test_eol_notices_follow.py)
    assert sorted(c.what for c in edited.changes) == ["approvers", f"owner:{task.key}", f"reviewers:{notice}"]
    assert after.params["approvers"] == [VP, COUNSEL] and after.gates[0].status == GateStatus.PENDING
    assert next(i for i in after.items if i.key == task.key).owner == WRITER
    assert [(u["issue_key"], u["assignee"]) for u in tracker_updates(stack, handle)] == [(task.issue_key, WRITER)]
    assert moved.type == "InvalidField" and "an end of life has no launch date" in moved.message
    assert any(e.to == [COUNSEL] and "when it opens" in e.body for e in emails(stack.outbox(handle.id), "Changed:"))
