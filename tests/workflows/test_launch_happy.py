"""A launch that goes to plan: kickoff, the gate opens on its date, both approve, announcement."""

from datetime import timedelta

from domain.enums import ProcessStatus
from tests.conftest import Stack
from tests.workflows.helpers import (
    CHANNEL,
    ITEMS,
    LEGAL,
    OWNER,
    STAKEHOLDER,
    VP,
    advance_to,
    assert_trail_consistent,
    chats,
    decide,
    emails,
    events,
    gate_moment,
    kicked_off,
    launch_moment,
    mark_done,
    sent,
    transitioned,
    view_of,
)


async def test_launch_runs_from_kickoff_to_announcement(stack: Stack) -> None:
    handle = await stack.start_launch(days_ahead=30)
    view = await kicked_off(handle)
    await advance_to(stack, gate_moment(view) + timedelta(days=1))  # a day into the gate: reminded, not yet decided
    view = await view_of(handle)
    assert view.status == ProcessStatus.WAITING
    assert view.gates[0].status == "open" and view.gates[0].required == 2
    assert {s.key: s.status for s in view.steps} == {
        "kickoff": "done",
        "checklist": "active",
        "go-no-go": "active",
        "launch-day": "pending",
    }
    for approver in ("vp@example.com", "legal@example.com"):
        await decide(handle, approver)  # one at a time, with its follow-ups done (see tests/workflows/helpers.py)
    await advance_to(stack, launch_moment(view) + timedelta(hours=1))
    launched = await view_of(handle)
    assert launched.status == ProcessStatus.RUNNING and launched.outcome == "launched with 12 open items"
    await mark_done(handle, *ITEMS)  # after launch day: nothing was done before, and it was chased until it was
    result = await handle.result()
    assert result.status == ProcessStatus.COMPLETED
    assert result.outcome == "launched; 12 items resolved after launch day"
    assert result.gates[0].status == "approved"
    assert [(a.approver, a.decision) for a in result.approvals] == [(VP, "approve"), (LEGAL, "approve")]
    assert {s.key: s.status for s in result.steps}["launch-day"] == "done"

    trail = stack.trail(handle.id)
    actions = [e.action for e in trail]
    assert actions[0] == "started" and actions[-1] == "completed"
    assert actions.count("issue_created") == 13
    assert actions.count("gate_opened") == 1 and actions.count("decision") == 2
    assert actions.index("gate_opened") < actions.index("decision") < actions.index("gate_closed")
    assert "reminder" in actions and "escalation" in actions, "nothing was done, so owners were chased"
    [announced] = sent(trail, "announcement")
    assert launch_moment(result) <= announced.at
    assert [e.details["outcome"] for e in events(trail, "gate_closed")] == ["approved"]
    assert_trail_consistent(trail, ProcessStatus.COMPLETED)

    outbox = stack.outbox(handle.id)
    [announcement] = emails(outbox, "is launched")
    assert announcement.to == sorted([STAKEHOLDER, OWNER])
    # kickoff, gate open, a request to each approver (with buttons), announcement
    posts = chats(outbox)
    assert [c.to for c in posts[:2] + posts[4:]] == [[CHANNEL]] * 3
    assert sorted(c.to[0] for c in posts[2:4]) == sorted([VP, LEGAL])  # sent side by side: either order
    for request in posts[2:4]:
        # decided (through the link, as far as the workflow knows), so the request says so instead of offering buttons
        assert request.body.startswith(":white_check_mark: You approved the launch of Acme")
        assert "through your email link" in request.body and "[Approve]" not in request.body
    assert {a.to[0] for a in emails(outbox, "your decision")} == {VP, LEGAL}
    assert len(emails(outbox, f"{VP} approved")) == len(emails(outbox, f"{LEGAL} approved")) == 1
    closed = transitioned(outbox)
    assert closed.count(result.links["epic"]) == 1 and len(closed) == 13, "the epic closed once every item was"
