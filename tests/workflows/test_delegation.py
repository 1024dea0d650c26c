"""Someone else decides: an approver hands their decision on (update `delegate`), or the gate's backup is asked in
place of the silent. Either way the decision is recorded "by X on behalf of Y" and counts as Y's."""

from __future__ import annotations

from datetime import timedelta

from domain.edits import ApproverEdits, EditInput
from domain.enums import Decision, GateStatus
from domain.updates import DecisionInput, DelegateInput
from domain.views import GateState, ProcessView
from tests.conftest import Stack
from tests.workflows.helpers import (
    GATE,
    LEGAL,
    OWNER,
    VP,
    Handle,
    Launch,
    advance_to,
    at_moment,
    decide,
    emails,
    events,
    gate_open,
    refusal,
    settled,
)
from tests.workflows.test_postmortem import CTO, IC, done, review_asked
from workflows.launch import LaunchWorkflow
from workflows.postmortem import PostmortemWorkflow

DEPUTY = "deputy@example.com"
BACKUP = "backup@example.com"
DAY = timedelta(days=1)


async def hand_over(handle: Handle, approver: str, to: str, note: str = "") -> ProcessView:
    view: ProcessView = await handle.execute_update(
        LaunchWorkflow.delegate, DelegateInput(gate=GATE, approver=approver, to=to, note=note)
    )
    await settled(handle)
    return view


async def decide_for(
    handle: Handle, approver: str, on_behalf_of: str, decision: Decision = Decision.APPROVE
) -> GateState:
    view: ProcessView = await handle.execute_update(
        LaunchWorkflow.decide,
        DecisionInput(
            gate=GATE, approver=approver, on_behalf_of=on_behalf_of, decision=decision, comment="Fine by us."
        ),
    )
    await settled(handle)
    return view.gates[0]


async def test_a_delegate_decides_on_the_approvers_behalf_and_it_counts_for_them(launch: Launch, stack: Stack) -> None:
    handle = await launch(days_ahead=2)
    await gate_open(handle, stack)

    not_yet = await refusal(
        handle.execute_update(
            LaunchWorkflow.decide,
            DecisionInput(gate=GATE, approver=DEPUTY, on_behalf_of=LEGAL, decision=Decision.APPROVE),
        )
    )
    handed = await hand_over(handle, LEGAL, DEPUTY, note="On leave until Monday.")
    to_self = await refusal(
        handle.execute_update(LaunchWorkflow.delegate, DelegateInput(gate=GATE, approver=VP, to=VP))
    )
    await decide(handle, VP)
    gate = await decide_for(handle, DEPUTY, LEGAL)
    again = await refusal(
        handle.execute_update(LaunchWorkflow.decide, DecisionInput(gate=GATE, approver=LEGAL, decision=Decision.REJECT))
    )
    trail = stack.trail(handle.id)
    outbox = stack.outbox(handle.id)

    assert not_yet.type == "NotFound" and f"has not handed their decision on Go / no-go to {DEPUTY}" in not_yet.message
    assert handed.gates[0].delegates == {LEGAL: DEPUTY}
    assert to_self.type == "Conflict"
    assert gate.status == GateStatus.APPROVED, "the delegate's approval counts for the approver"
    record = next(d for d in gate.decisions if d.approver == DEPUTY)
    assert (record.on_behalf_of, record.for_whom, record.comment) == (LEGAL, LEGAL, "Fine by us.")
    assert again.type == "Conflict" and f"on behalf of {LEGAL}" in again.message
    [delegated] = events(trail, "delegated")
    assert (delegated.actor, delegated.details["to"], delegated.details["note"]) == (
        LEGAL,
        DEPUTY,
        "On leave until Monday.",
    )
    [decision] = events(trail, "decision", on_behalf_of=LEGAL)
    assert decision.actor == DEPUTY
    [asked] = [e for e in emails(outbox, "Go / no-go") if e.to == [DEPUTY]]
    assert f"{LEGAL} handed this decision to you" in asked.body and "On leave until Monday." in asked.body
    assert any(e.to == [OWNER] and f"{DEPUTY} on behalf of {LEGAL}" in e.subject for e in emails(outbox))
    assert any(e.to == [OWNER] and f"handed their decision on Go / no-go to {DEPUTY}" in e.body for e in outbox)


async def test_the_delegates_link_stops_when_the_approver_is_replaced(launch: Launch, stack: Stack) -> None:
    handle = await launch(days_ahead=2)
    await gate_open(handle, stack)
    await hand_over(handle, LEGAL, DEPUTY)

    await handle.execute_update(
        LaunchWorkflow.edit, EditInput(by=OWNER, approvers=ApproverEdits(replace={LEGAL: "counsel@example.com"}))
    )
    refused = await refusal(
        handle.execute_update(
            LaunchWorkflow.decide,
            DecisionInput(gate=GATE, approver=DEPUTY, on_behalf_of=LEGAL, decision=Decision.APPROVE),
        )
    )

    assert refused.type == "Expired" and f"{LEGAL} is no longer an approver" in refused.message


async def test_the_backup_is_asked_for_the_silent_and_decides_on_their_behalf(launch: Launch, stack: Stack) -> None:
    handle = await launch(days_ahead=3, gate={"backup": BACKUP, "escalate_after_days": 1})
    view = await gate_open(handle, stack)
    opened = view.gates[0].opened_at
    assert opened is not None
    await decide(handle, VP)

    await advance_to(stack, opened + DAY + timedelta(hours=1))
    gate = await decide_for(handle, BACKUP, LEGAL)
    trail = stack.trail(handle.id)

    [delegated] = events(trail, "delegated")
    assert at_moment(delegated.at, opened + DAY)
    assert (delegated.actor, delegated.details["approvers"], delegated.details["to"]) == ("signoff", [LEGAL], BACKUP)
    assert "no decision 1 day after" in delegated.details["reason"]
    [asked] = [e for e in emails(stack.outbox(handle.id), "Go / no-go") if e.to == [BACKUP]]
    assert f"{LEGAL} handed this decision to you" in asked.body
    assert gate.status == GateStatus.APPROVED
    assert [(d.approver, d.on_behalf_of) for d in gate.decisions] == [(VP, None), (BACKUP, LEGAL)]


async def test_no_hand_over_to_a_fellow_approver_or_the_owner(launch: Launch, stack: Stack) -> None:
    handle = await launch(days_ahead=2)
    await gate_open(handle, stack)

    def to(person: str) -> DelegateInput:
        return DelegateInput(gate=GATE, approver=LEGAL, to=person)

    fellow = await refusal(handle.execute_update(LaunchWorkflow.delegate, to(VP)))
    owner = await refusal(handle.execute_update(LaunchWorkflow.delegate, to(OWNER)))

    assert fellow.type == "Conflict"
    assert fellow.message == f"{VP} is an approver of this gate already: one person, one decision"
    assert owner.type == "Conflict" and owner.message == f"{OWNER} owns this launch and cannot decide Go / no-go"
    view: ProcessView = await handle.query(LaunchWorkflow.view)
    assert view.gates[0].delegates == {}
    assert events(stack.trail(handle.id), "delegated") == []


async def test_a_reviewer_hands_a_post_mortem_s_review_to_neither_its_owner_nor_its_commander(stack: Stack) -> None:
    handle = await stack.start_postmortem(owner=OWNER)
    await done(handle, "draft")
    await review_asked(stack, handle)

    def to(person: str) -> DelegateInput:
        return DelegateInput(gate="review", approver=CTO, to=person, signed_in=True)

    owner = await refusal(handle.execute_update(PostmortemWorkflow.delegate, to(OWNER)))
    commander = await refusal(handle.execute_update(PostmortemWorkflow.delegate, to(IC)))

    assert owner.type == "Conflict" and f"{OWNER} owns this post-mortem and cannot decide" in owner.message
    assert commander.type == "Conflict" and f"{IC} owns this post-mortem and cannot decide" in commander.message
    assert events(stack.trail(handle.id), "delegated") == []


async def test_one_person_one_decision_across_hand_overs_and_edits(launch: Launch, stack: Stack) -> None:
    """A review's finding: by handing over and editing, two people once cast four decisions on a gate of four.
    Nobody decides for two approvers, nobody taken off the gate decides for anyone, nobody standing in for an
    approver joins the gate as one."""
    handle = await launch(days_ahead=2)
    await gate_open(handle, stack)
    await hand_over(handle, LEGAL, DEPUTY)

    joins = await refusal(
        handle.execute_update(LaunchWorkflow.edit, EditInput(by=OWNER, approvers=ApproverEdits(add=[DEPUTY])))
    )
    twice = await refusal(
        handle.execute_update(LaunchWorkflow.delegate, DelegateInput(gate=GATE, approver=VP, to=DEPUTY))
    )
    await handle.execute_update(
        LaunchWorkflow.edit, EditInput(by=OWNER, approvers=ApproverEdits(add=["ops@example.com"]))
    )
    await handle.execute_update(
        LaunchWorkflow.edit, EditInput(by=OWNER, approvers=ApproverEdits(remove=["ops@example.com"]))
    )
    removed = await refusal(
        handle.execute_update(LaunchWorkflow.delegate, DelegateInput(gate=GATE, approver=VP, to="ops@example.com"))
    )

    assert joins.type == "InvalidField"
    assert f"{DEPUTY} decides on behalf of {LEGAL} at Go / no-go: one person, one decision" in joins.message
    assert twice.type == "Conflict"
    assert twice.message == f"{DEPUTY} decides on behalf of {LEGAL} already: one person, one decision"
    assert removed.type == "Conflict" and "ops@example.com was taken off Go / no-go" in removed.message
    view: ProcessView = await handle.query(LaunchWorkflow.view)
    assert view.gates[0].delegates == {LEGAL: DEPUTY}
    assert DEPUTY not in view.gates[0].approvers
