"""The go/no-go gate: when it opens, the approval links, policies, rejection and reopening."""

from __future__ import annotations

from datetime import timedelta

from domain.enums import Decision, ProcessStatus
from tests.conftest import Stack
from tests.workflows.helpers import (
    DOCS,
    GATE,
    ITEMS,
    LEGAL,
    OWNER,
    SUPPORT,
    VP,
    Launch,
    advance_to,
    approval_links,
    assert_trail_consistent,
    at_moment,
    decide,
    emails,
    events,
    finished,
    gate_open,
    issue_keys,
    issues,
    kicked_off,
    launch_moment,
    mark_done,
    refusal,
    transitioned,
    view_of,
)

CTO = "cto@example.com"


async def assert_links_for(stack: Stack, process_id: str, approvers: list[str], round: int = 1) -> None:
    """Each approver was emailed an absolute link of their own, for this gate and round."""
    now = await stack.env.get_current_time()
    for approver in approvers:
        [*_, request] = [e for e in emails(stack.outbox(process_id), "your decision") if e.to == [approver]]
        [token] = approval_links([request], approver)
        assert f"http://signoff.test/approve/{token}" in request.body
        claims = stack.tokens.read(token, now)
        assert (claims.process_id, claims.gate, claims.approver, claims.round) == (process_id, GATE, approver, round)


async def test_gate_opens_three_days_before_launch(launch: Launch, stack: Stack) -> None:
    handle = await launch(days_ahead=30)
    view = await kicked_off(handle)
    opens_at = launch_moment(view) - timedelta(days=3)

    await advance_to(stack, opens_at - timedelta(hours=1))
    view = await view_of(handle)
    assert events(stack.trail(handle.id), "gate_opened") == []
    assert view.status == ProcessStatus.RUNNING and view.gates[0].status == "pending"

    await advance_to(stack, opens_at + timedelta(hours=1))
    view = await view_of(handle)
    trail = stack.trail(handle.id)
    [opened] = events(trail, "gate_opened")
    assert at_moment(opened.at, opens_at)
    assert opened.details["approvers"] == [VP, LEGAL] and opened.details["round"] == 1
    assert view.status == ProcessStatus.WAITING and view.gates[0].status == "open"
    [requested] = events(trail, "approval_requested")
    assert requested.details["approvers"] == [VP, LEGAL]
    await assert_links_for(stack, handle.id, [VP, LEGAL])


async def test_gate_opens_as_soon_as_every_item_is_done(launch: Launch, stack: Stack) -> None:
    handle = await launch(days_ahead=30)
    await kicked_off(handle)

    await mark_done(handle, *ITEMS)
    view = await gate_open(handle, stack)

    trail = stack.trail(handle.id)
    last_done = events(trail, "item_done")[-1]
    [opened] = events(trail, "gate_opened")
    assert timedelta(0) <= opened.at - last_done.at < timedelta(minutes=1)
    assert view.status == ProcessStatus.WAITING
    assert {s.key: s.status for s in view.steps}["checklist"] == "done"
    assert len(events(trail, "item_done")) == 12
    await assert_links_for(stack, handle.id, [VP, LEGAL])
    for approver in (VP, LEGAL):
        [request] = [e for e in emails(stack.outbox(handle.id), "your decision") if e.to == [approver]]
        assert "12 of 12 items done" in request.body


async def test_policy_all_needs_every_approver(launch: Launch, stack: Stack) -> None:
    handle = await launch(days_ahead=2)  # the gate's date has passed: it opens right after kickoff
    await gate_open(handle, stack)
    await mark_done(handle, *ITEMS)  # nothing left open: the launch completes on launch day

    state = await decide(handle, VP)
    assert state.status == "open" and (await view_of(handle)).status == ProcessStatus.WAITING
    state = await decide(handle, LEGAL)
    assert state.status == "approved"

    result = await finished(handle)
    assert result.status == ProcessStatus.COMPLETED
    assert [(a.approver, a.decision) for a in result.approvals] == [(VP, "approve"), (LEGAL, "approve")]


async def test_policy_any_first_approval_settles_the_gate(launch: Launch, stack: Stack) -> None:
    handle = await launch(days_ahead=2, policy="any")
    await gate_open(handle, stack)
    await mark_done(handle, *ITEMS)  # nothing left open: the launch completes on launch day

    state = await decide(handle, LEGAL)
    assert state.status == "approved" and state.required == 1

    late = await refusal(decide(handle, VP))
    assert late.type == "Conflict"
    result = await finished(handle)
    assert result.status == ProcessStatus.COMPLETED
    assert [a.approver for a in result.approvals] == [LEGAL]
    assert [e.actor for e in events(stack.trail(handle.id), "decision")] == [LEGAL]


async def test_policy_quorum_two_of_three_survives_one_rejection(launch: Launch, stack: Stack) -> None:
    handle = await launch(days_ahead=2, approvers=[VP, LEGAL, CTO], policy=2)
    await gate_open(handle, stack)
    await mark_done(handle, *ITEMS)  # nothing left open: the launch completes on launch day

    assert (await decide(handle, VP)).status == "open"
    assert (await decide(handle, LEGAL, Decision.REJECT, "not yet")).status == "open"
    assert (await view_of(handle)).status == ProcessStatus.WAITING
    state = await decide(handle, CTO)
    assert state.status == "approved" and state.required == 2

    result = await finished(handle)
    assert result.status == ProcessStatus.COMPLETED


async def test_rejection_ends_the_launch(launch: Launch, stack: Stack) -> None:
    handle = await launch(days_ahead=2)
    view = await gate_open(handle, stack)
    await mark_done(handle, "documentation", "release-notes")  # docs@ has nothing open any more
    comment = "Legal found a trademark problem in the product name."

    state = await decide(handle, LEGAL, Decision.REJECT, comment)
    assert state.status == "rejected"
    result = await finished(handle)

    assert result.status == ProcessStatus.REJECTED
    assert comment in (result.outcome or "")
    assert {s.key: s.status for s in result.steps} == {
        "kickoff": "done",
        "checklist": "failed",
        "go-no-go": "failed",
        "launch-day": "skipped",
    }
    outbox = stack.outbox(handle.id)
    [decision] = emails(outbox, f"{LEGAL} rejected the launch")
    assert decision.to == [OWNER] and comment in decision.body
    [ended] = emails(outbox, f"Launch of {view.params['product']} rejected")
    assert ended.to == sorted([OWNER, VP, LEGAL, SUPPORT])  # owners of open items, approvers, the owner
    assert DOCS not in ended.to and comment in ended.body
    assert sorted(transitioned(outbox)) == issue_keys(view), "every issue closed exactly once"
    assert len(issues(outbox)) == 13

    trail = stack.trail(handle.id)
    [closed] = events(trail, "gate_closed")
    assert closed.details["outcome"] == "rejected"
    [rejected] = events(trail, "rejected")
    assert rejected.details["reason"] == f"{LEGAL}: {comment}"
    assert events(trail, "completed") == [] and events(trail, "message_sent", template="announcement") == []
    assert_trail_consistent(trail, ProcessStatus.REJECTED, strict=False)  # strict: test_launch_audit.py


async def test_rejection_reopens_the_gate_when_the_template_says_so(launch: Launch, stack: Stack) -> None:
    handle = await launch(days_ahead=2, gate={"on_reject": "reopen"})
    await gate_open(handle, stack)
    await mark_done(handle, *ITEMS)  # nothing left open: the launch completes on launch day

    state = await decide(handle, VP, Decision.REJECT, "fix the pricing page first")
    assert [(d.approver, d.decision, d.round) for d in state.decisions] == [(VP, "reject", 1)]
    view = await gate_open(handle, stack, round=2)
    assert view.status == ProcessStatus.WAITING

    trail = stack.trail(handle.id)
    assert [e.details["round"] for e in events(trail, "gate_opened")] == [1, 2]
    assert [e.details["approvers"] for e in events(trail, "approval_requested")] == [[VP, LEGAL], [VP, LEGAL]]
    await assert_links_for(stack, handle.id, [VP, LEGAL], round=2)
    for approver in (VP, LEGAL):
        requests = [e for e in emails(stack.outbox(handle.id), "Go / no-go for") if e.to == [approver]]
        assert len([r for r in requests if not r.subject.startswith("Reminder")]) == 2

    stale = await refusal(decide(handle, LEGAL, round=1))
    assert stale.type == "Expired" and "round 2" in stale.message
    await decide(handle, VP)
    await decide(handle, LEGAL)
    result = await finished(handle)

    assert result.status == ProcessStatus.COMPLETED
    assert [(a.approver, a.decision, a.round) for a in result.approvals] == [
        (VP, "reject", 1),
        (VP, "approve", 2),
        (LEGAL, "approve", 2),
    ]
    trail = stack.trail(handle.id)
    assert [e.details["outcome"] for e in events(trail, "gate_closed")] == ["rejected", "approved"]
    assert events(trail, "rejected") == []
    assert_trail_consistent(trail, ProcessStatus.COMPLETED)
