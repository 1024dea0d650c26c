"""Updates the validators refuse: nothing of them lands in history or in the audit trail."""

from __future__ import annotations

from domain.enums import Decision
from domain.updates import ItemDoneInput
from tests.conftest import Stack
from tests.workflows.helpers import (
    LEGAL,
    OWNER,
    VP,
    Launch,
    decide,
    gate_open,
    kicked_off,
    refusal,
    view_of,
)
from workflows.launch import LaunchWorkflow


async def test_unknown_approver_is_not_found(launch: Launch, stack: Stack) -> None:
    handle = await launch(days_ahead=2)
    await gate_open(handle, stack)
    before = stack.trail(handle.id)

    refused = await refusal(decide(handle, "mallory@example.com"))

    assert refused.type == "NotFound" and "mallory@example.com" in refused.message
    assert stack.trail(handle.id) == before
    assert (await view_of(handle)).approvals == []


async def test_second_decision_by_the_same_approver_is_a_conflict(launch: Launch, stack: Stack) -> None:
    handle = await launch(days_ahead=2)
    await gate_open(handle, stack)
    await decide(handle, VP)
    [first] = (await view_of(handle)).approvals
    before = stack.trail(handle.id)

    refused = await refusal(decide(handle, VP, Decision.REJECT, "changed my mind"))

    assert refused.type == "Conflict"
    assert VP in refused.message and "'approve'" in refused.message
    assert f"{first.at:%Y-%m-%d %H:%M} UTC" in refused.message, "says when they decided"
    assert stack.trail(handle.id) == before
    view = await view_of(handle)
    assert [(a.approver, a.decision) for a in view.approvals] == [(VP, "approve")]
    assert view.gates[0].status == "open"


async def test_decision_before_the_gate_opens_is_a_conflict(launch: Launch, stack: Stack) -> None:
    handle = await launch(days_ahead=30)
    await kicked_off(handle)
    before = stack.trail(handle.id)

    refused = await refusal(decide(handle, LEGAL))

    assert refused.type == "Conflict" and "not open" in refused.message
    assert stack.trail(handle.id) == before
    assert (await view_of(handle)).gates[0].status == "pending"


async def test_owner_cannot_decide_their_own_gate(launch: Launch, stack: Stack) -> None:
    handle = await launch(days_ahead=2, approvers=[OWNER, VP], policy="any")
    await gate_open(handle, stack)
    before = stack.trail(handle.id)

    refused = await refusal(decide(handle, OWNER))

    assert refused.type == "Conflict" and "owner" in refused.message
    assert stack.trail(handle.id) == before
    assert (await view_of(handle)).approvals == []
    assert (await decide(handle, VP)).status == "approved", "the other approver still can"


async def test_unknown_checklist_item_is_not_found(launch: Launch, stack: Stack) -> None:
    handle = await launch(days_ahead=30)
    await kicked_off(handle)
    before = stack.trail(handle.id)

    refused = await refusal(
        handle.execute_update(LaunchWorkflow.mark_item_done, ItemDoneInput(item="press-release", by=OWNER))
    )

    assert refused.type == "NotFound" and "press-release" in refused.message
    assert stack.trail(handle.id) == before
    assert all(i.status == "open" for i in (await view_of(handle)).items)
