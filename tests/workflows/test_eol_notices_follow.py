"""An end of life's approvers are its customer notices' reviewers: a change of them goes on to every notice under
way from the workflow itself (`CustomerNotices.pass_on`, signal `edit_passed_on`), which takes it while its review
is open and says in its own trail why not once it is approved."""

from __future__ import annotations

from domain.edits import ApproverEdits, Edited, EditInput
from domain.enums import Decision, GateStatus
from domain.updates import DecisionInput
from domain.views import ProcessView
from tests.conftest import Stack
from tests.workflows.helpers import Handle, eventually, refusal, settled
from tests.workflows.test_eol import LEGAL, OWNER, VP, approve_notice, notice_in_review, view_of
from workflows.comms import CommsWorkflow
from workflows.eol import EolWorkflow

COUNSEL = "counsel@example.com"


async def replace_legal(handle: Handle) -> Edited:
    edited: Edited = await handle.execute_update(
        EolWorkflow.edit,
        EditInput(by=OWNER, reason="Legal moved on.", approvers=ApproverEdits(replace={LEGAL: COUNSEL})),
    )
    return edited


async def notice_view(notice: Handle) -> ProcessView:
    view: ProcessView = await notice.query(CommsWorkflow.view)
    return view


async def test_a_notice_in_review_takes_the_new_approvers_as_its_reviewers(stack: Stack) -> None:
    handle = await stack.start_eol()
    notice = await notice_in_review(stack, handle)

    edited = await replace_legal(handle)

    async def followed() -> bool:
        return (await notice_view(notice)).gates[0].approvers == [VP, COUNSEL]

    await eventually(followed, "the notice's reviewers to follow")
    await settled(notice)
    gone = await refusal(
        notice.execute_update(
            CommsWorkflow.decide, DecisionInput(gate="review", approver=LEGAL, decision=Decision.APPROVE)
        )
    )
    for reviewer in (VP, COUNSEL):
        await notice.execute_update(
            CommsWorkflow.decide, DecisionInput(gate="review", approver=reviewer, decision=Decision.APPROVE)
        )
        await settled(notice)
    reviewed = await notice_view(notice)

    assert [c.what for c in edited.changes] == ["approvers", f"reviewers:{notice.id}"]
    assert (await view_of(handle)).gates[0].approvers == [VP, COUNSEL]
    [trail_edit] = [e for e in stack.trail(notice.id) if e.action == "edited"]
    assert trail_edit.actor == OWNER and trail_edit.details["reason"] == "Legal moved on."
    assert LEGAL in gone.message
    assert reviewed.gates[0].status == GateStatus.APPROVED
    assert [r["email"] for r in reviewed.params["reviewers"]] == [VP, COUNSEL]


async def test_a_notice_approved_keeps_its_reviewers_and_says_why_in_its_trail(stack: Stack) -> None:
    handle = await stack.start_eol()
    notice = await notice_in_review(stack, handle)
    await approve_notice(notice)

    edited = await replace_legal(handle)

    async def refused() -> bool:
        return any(e.action == "edit_refused" for e in stack.trail(notice.id))

    await eventually(refused, "the notice to refuse the change")
    [said] = [e for e in stack.trail(notice.id) if e.action == "edit_refused"]
    kept = await notice_view(notice)

    assert f"reviewers:{notice.id}" in [c.what for c in edited.changes]
    assert said.actor == OWNER and "approved already" in said.details["refusal"]
    assert said.details["changes"] == ["approvers"]
    assert kept.gates[0].approvers == [VP, LEGAL]
    assert (await view_of(handle)).gates[0].approvers == [VP, COUNSEL], "the end of life's own gate changes"
