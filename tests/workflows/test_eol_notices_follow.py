"""An end of life's approvers are its customer notices' reviewers: a change of them goes on to every notice under
way from the workflow itself (`CustomerNotices.pass_on`, signal `edit_passed_on`), which takes it while its review
is open and says in its own trail why not once it is approved."""

from __future__ import annotations

import uuid
from datetime import timedelta

from domain.edits import ApproverEdits, Edited, EditInput
from domain.enums import Decision, GateStatus
from domain.updates import DecisionInput
from tests.conftest import Stack
from tests.workflows.helpers import Handle, eventually, nine_utc, refusal, settled
from tests.workflows.test_eol import LEGAL, OWNER, VP, approve_notice, notice_in_review, view_of
from workflows.comms import CommsWorkflow
from workflows.eol import EolWorkflow

COUNSEL = "counsel@example.com"
REPLACE_LEGAL = EditInput(by=OWNER, reason="Legal moved on.", approvers=ApproverEdits(replace={LEGAL: COUNSEL}))


async def replace_legal(handle: Handle) -> Edited:
    edited: Edited = await handle.execute_update(EolWorkflow.edit, REPLACE_LEGAL)
    return edited


async def test_a_notice_in_review_takes_the_new_approvers_as_its_reviewers(stack: Stack) -> None:
    handle = await stack.start_eol()
    notice = await notice_in_review(stack, handle)

    edited = await replace_legal(handle)

    async def followed() -> bool:
        return (await view_of(notice)).gates[0].approvers == [VP, COUNSEL]

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
    reviewed = await view_of(notice)

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
    kept = await view_of(notice)

    assert f"reviewers:{notice.id}" in [c.what for c in edited.changes]
    assert said.actor == OWNER and "approved already" in said.details["refusal"]
    assert said.details["changes"] == ["approvers"]
    assert kept.gates[0].approvers == [VP, LEGAL]
    assert (await view_of(handle)).gates[0].approvers == [VP, COUNSEL], "the end of life's own gate changes"


async def start_child_message(stack: Stack, parent: str | None, preapproved: bool) -> Handle:
    """A message as an end of life starts a notice (`parent`), its text approved already if `preapproved`,
    sent in ten days."""
    return await stack.start_comms(
        parent=parent, preapproved=preapproved, subject=f"Sunset {uuid.uuid4().hex[:6]}", body="We retire **Legacy**.",
        audience=["ana@customer.example"], reviewers=[f"{VP}:Approver", f"{LEGAL}:Approver"], owner=OWNER,
        send_at=nine_utc(await stack.today() + timedelta(days=10)),
    )  # fmt: skip


async def test_a_reminder_approved_already_keeps_its_reviewers_and_says_why(stack: Stack) -> None:
    message = await start_child_message(stack, parent="eol-x", preapproved=True)
    await message.signal(CommsWorkflow.edit_passed_on, REPLACE_LEGAL)

    async def refused() -> bool:
        return any(e.action == "edit_refused" for e in stack.trail(message.id))

    await eventually(refused, "the message to refuse the change")
    [said] = [e for e in stack.trail(message.id) if e.action == "edit_refused"]
    actions = [e.action for e in stack.trail(message.id)]

    assert said.details["refusal"] == "the message's review is over: its reviewers no longer change"
    assert said.actor == OWNER
    assert actions.index("started") < actions.index("edit_refused")
    assert (await view_of(message)).gates[0].approvers == [VP, LEGAL]


async def test_only_a_notice_takes_a_change_passed_on_and_only_of_its_approvers(stack: Stack) -> None:
    orphan = await start_child_message(stack, parent=None, preapproved=False)
    child = await start_child_message(stack, parent="eol-x", preapproved=False)

    async def asked(handle: Handle) -> bool:
        return any(e.action == "review_requested" for e in stack.trail(handle.id))

    await eventually(lambda: asked(orphan), "the orphan's review")
    await eventually(lambda: asked(child), "the child's review")
    await orphan.signal(CommsWorkflow.edit_passed_on, REPLACE_LEGAL)
    await child.signal(CommsWorkflow.edit_passed_on, EditInput(by=OWNER, send_at=nine_utc(await stack.today())))
    await child.signal(CommsWorkflow.edit_passed_on, REPLACE_LEGAL)  # (signals are taken in order)

    async def followed() -> bool:
        return (await view_of(child)).gates[0].approvers == [VP, COUNSEL]

    await eventually(followed, "the child's reviewers to follow")
    await settled(child)
    await settled(orphan)

    assert (await view_of(orphan)).gates[0].approvers == [VP, LEGAL]
    assert not [e for e in stack.trail(orphan.id) if e.action in ("edited", "edit_refused")]
    assert [e.details["changes"][0]["what"] for e in stack.trail(child.id) if e.action == "edited"] == ["approvers"]
    assert not [e for e in stack.trail(child.id) if e.action == "edit_refused"], "a wrong signal leaves no row"
