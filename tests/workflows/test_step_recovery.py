"""A rejected go / no-go held for the launch's owner (``on_reject: owner``): re-run, end, or nobody's word in time."""

from __future__ import annotations

from datetime import timedelta

from domain.enums import Decision, ProcessStatus
from domain.updates import RecoverInput
from tests.conftest import Stack
from tests.workflows.helpers import (
    GATE,
    ITEMS,
    LEGAL,
    OWNER,
    VP,
    Handle,
    Launch,
    advance_to,
    assert_trail_consistent,
    decide,
    emails,
    events,
    eventually,
    finished,
    gate_open,
    issues,
    mark_done,
    refusal,
    view_of,
)
from workflows.launch import LaunchWorkflow

NO = "The trademark search is not back yet."


async def held(handle: Handle, stack: Stack) -> None:
    """Wait until the gate is held for the owner and the owner has been emailed."""

    async def told() -> bool:
        view = await view_of(handle)
        return view.held is not None and bool(emails(stack.outbox(handle.id), "is held for you"))

    await eventually(told, "the rejected gate to be held for the owner")


async def rejected_and_held(launch: Launch, stack: Stack) -> Handle:
    handle = await launch(days_ahead=2, gate={"on_reject": "owner"})
    await gate_open(handle, stack)
    await mark_done(handle, *ITEMS)
    await decide(handle, VP)
    await decide(handle, LEGAL, Decision.REJECT, NO)
    await held(handle, stack)
    return handle


def word(action: str, reason: str = "Search came back clean.") -> RecoverInput:
    return RecoverInput(step=GATE, action=action, reason=reason, by=OWNER)  # type: ignore[arg-type]


async def test_a_rejected_gate_is_held_then_asked_again_and_the_launch_goes_on(launch: Launch, stack: Stack) -> None:
    handle = await rejected_and_held(launch, stack)
    view = await view_of(handle)
    assert view.status == ProcessStatus.WAITING
    assert view.held is not None and view.held.step == GATE and view.held.actions == ["rerun", "end"]
    assert NO in view.held.why and {s.key: s.status for s in view.steps}[GATE] == "failed"
    [told] = emails(stack.outbox(handle.id), "is held for you")
    assert told.to == [OWNER] and NO in told.body and f"signoff rerun {handle.id} {GATE}" in told.body
    before = stack.outbox(handle.id)

    answer = await handle.execute_update(LaunchWorkflow.recover, word("rerun"))
    assert answer.held is None
    await gate_open(handle, stack, round=2)
    for approver in (VP, LEGAL):
        [*_, request] = [e for e in emails(stack.outbox(handle.id), "your decision") if e.to == [approver]]
        assert "Search came back clean." in request.body
    await decide(handle, VP, round=2)
    await decide(handle, LEGAL, round=2)
    result = await finished(handle)

    assert result.status == ProcessStatus.COMPLETED and result.outcome == "launched"
    outbox, trail = stack.outbox(handle.id), stack.trail(handle.id)
    assert len(issues(outbox)) == len(issues(before)) == 1 + len(ITEMS)  # no second epic, no second issue
    kickoff = [e for e in outbox if ":kickoff" in e.key]  # the kickoff's emails and post, each once: not run again
    assert len(emails(kickoff, "your checklist items")) == 3 and len([e for e in kickoff if e.channel == "chat"]) == 1
    [rerun] = events(trail, "step_rerun")
    assert (rerun.actor, rerun.details["reason"], rerun.step) == (OWNER, "Search came back clean.", GATE)
    assert len(events(trail, "step_held")) == 1 and len(events(trail, "gate_opened")) == 2
    assert_trail_consistent(trail, ProcessStatus.COMPLETED)


async def test_the_owner_ends_a_held_launch(launch: Launch, stack: Stack) -> None:
    handle = await rejected_and_held(launch, stack)

    await handle.execute_update(LaunchWorkflow.recover, word("end", "We launch next quarter."))
    result = await finished(handle)

    assert result.status == ProcessStatus.REJECTED and result.held is None
    assert "We launch next quarter." in (result.outcome or "")
    trail = stack.trail(handle.id)
    [ended] = events(trail, "step_ended")
    assert ended.actor == OWNER and ended.details["reason"] == "We launch next quarter."
    assert_trail_consistent(trail, ProcessStatus.REJECTED)


async def test_without_the_owners_word_a_held_launch_ends_rejected_after_the_gates_hold(
    launch: Launch, stack: Stack
) -> None:
    handle = await rejected_and_held(launch, stack)
    view = await view_of(handle)
    assert view.held is not None

    await advance_to(stack, view.held.until - timedelta(hours=1))
    assert (await view_of(handle)).status == ProcessStatus.WAITING
    await advance_to(stack, view.held.until + timedelta(minutes=5))
    result = await finished(handle)

    assert result.status == ProcessStatus.REJECTED and NO in (result.outcome or "")
    trail = stack.trail(handle.id)
    assert events(trail, "hold_expired") and not events(trail, "step_rerun")
    assert_trail_consistent(trail, ProcessStatus.REJECTED)


async def test_what_the_owner_may_not_say_of_a_held_gate(launch: Launch, stack: Stack) -> None:
    handle = await rejected_and_held(launch, stack)

    skipped = await refusal(handle.execute_update(LaunchWorkflow.recover, word("skip")))
    assert skipped.type == "Conflict" and "not skipped" in skipped.message
    blank = await refusal(handle.execute_update(LaunchWorkflow.recover, word("rerun", "  ")))
    assert blank.type == "BadInput" and "say why" in blank.message
    other = await refusal(
        handle.execute_update(LaunchWorkflow.recover, word("rerun").model_copy(update={"step": "kickoff"}))
    )
    assert other.type == "Conflict" and "not held" in other.message
    unknown = await refusal(
        handle.execute_update(LaunchWorkflow.recover, word("rerun").model_copy(update={"step": "nope"}))
    )
    assert unknown.type == "NotFound"
    assert not events(stack.trail(handle.id), "step_skipped")
    await handle.execute_update(LaunchWorkflow.recover, word("end", "Cleaning up."))
    await finished(handle)


async def test_nothing_is_held_by_default_so_the_owner_has_nothing_to_rerun(launch: Launch, stack: Stack) -> None:
    handle = await launch(days_ahead=2)
    await gate_open(handle, stack)

    refused = await refusal(handle.execute_update(LaunchWorkflow.recover, word("rerun")))
    assert refused.type == "Conflict" and "not held" in refused.message
    await decide(handle, LEGAL, Decision.REJECT, NO)
    assert (await finished(handle)).status == ProcessStatus.REJECTED
