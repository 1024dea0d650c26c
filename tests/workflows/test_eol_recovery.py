"""An end of life whose customer notice ends unsent is held for its owner (``notice_hold_days``): a new notice under
a new id, or none, and the end of life goes on."""

from __future__ import annotations

from datetime import timedelta

from domain.enums import Decision, ProcessStatus
from domain.updates import CancelInput, DecisionInput, RecoverInput
from domain.views import ProcessView
from tests.conftest import Stack
from tests.workflows.helpers import Handle, advance_to, emails, events, eventually, finished, issues, nine_utc, settled
from tests.workflows.test_eol import LEGAL, OWNER, approve_notice, milestone_date, notice_in_review, view_of
from workflows.comms import CommsWorkflow
from workflows.eol import EolWorkflow


async def rejected_notice(stack: Stack, **template: object) -> tuple[Handle, Handle]:
    """An end of life whose first notice LEGAL rejected, held for the owner; and that notice."""
    handle = await stack.start_eol(template=template or None)
    child = await notice_in_review(stack, handle)
    await child.execute_update(
        CommsWorkflow.decide,
        DecisionInput(gate="review", approver=LEGAL, decision=Decision.REJECT, comment="Too blunt."),
    )

    async def held() -> bool:
        return (await view_of(handle)).held is not None and bool(emails(stack.outbox(handle.id), "is held for you"))

    await eventually(held, "the notice to be held for the owner")
    return handle, child


def word(action: str, reason: str) -> RecoverInput:
    return RecoverInput(step="notice", action=action, reason=reason, by=OWNER)  # type: ignore[arg-type]


async def test_a_rejected_notice_is_held_and_sent_again_under_a_new_id(stack: Stack) -> None:
    handle, first = await rejected_notice(stack)
    view = await view_of(handle)
    assert view.status == ProcessStatus.WAITING and view.held is not None
    assert view.held.actions == ["rerun", "skip", "end"] and "Too blunt." in view.held.why
    filed = len(issues(stack.outbox(handle.id)))

    await handle.execute_update(EolWorkflow.recover, word("rerun", "Softened the wording."))
    second = await notice_in_review(stack, handle, n=2)
    assert second.id != first.id
    await approve_notice(second)
    await advance_to(stack, nine_utc(milestone_date(view, "announce_date")) + timedelta(hours=1))

    async def sent() -> bool:
        return bool(events(stack.trail(handle.id), "notice_sent"))

    await eventually(sent, "the second notice to be sent")
    [notice_sent] = events(stack.trail(handle.id), "notice_sent")
    assert notice_sent.details["process"] == second.id
    assert sorted(m.to[0] for m in stack.outbox(second.id) if ":send:" in m.key) == [
        "ana@customer.example", "bo@customer.example",
    ]  # fmt: skip
    assert not [m for m in stack.outbox(first.id) if ":send:" in m.key]
    after = await view_of(handle)
    assert {s.key: s.status for s in after.steps}["notice"] == "done" and after.held is None
    assert len(issues(stack.outbox(handle.id))) == filed  # the kickoff's epic and tasks, once
    [rerun] = events(stack.trail(handle.id), "step_rerun")
    assert rerun.actor == OWNER and rerun.details["reason"] == "Softened the wording."
    await handle.execute_update(EolWorkflow.cancel, CancelInput(by=OWNER, reason="Test over."))


async def test_a_skipped_notice_goes_on_to_the_milestones_without_it(stack: Stack) -> None:
    handle, _ = await rejected_notice(stack)
    view = await view_of(handle)

    answer: ProcessView = await handle.execute_update(EolWorkflow.recover, word("skip", "Account managers told them."))
    assert answer.held is None
    await advance_to(stack, nine_utc(milestone_date(view, "end_of_sale")) + timedelta(hours=1))

    assert emails(stack.outbox(handle.id), "end of sale today")
    after = await view_of(handle)
    steps = {s.key: s.status for s in after.steps}
    assert steps["notice"] == "skipped" and steps["end-of-sale"] == "done" and after.status == ProcessStatus.RUNNING
    trail = stack.trail(handle.id)
    [skipped] = events(trail, "step_skipped")
    assert skipped.actor == OWNER and skipped.details["reason"] == "Account managers told them."
    [told] = emails(stack.outbox(handle.id), "is skipped")
    assert told.to == [OWNER] and "Account managers told them." in told.body
    assert not events(trail, "notice_sent")
    # with no approved notice to send again, the customer reminders (the 90 days' started by now) are reviewed anew
    [_, *reminders] = [e.details["process"] for e in events(trail, "notice_started")]
    assert reminders and all("reminder" in r for r in reminders)
    assert not any(events(stack.trail(r), "preapproved") for r in reminders)
    await handle.execute_update(EolWorkflow.cancel, CancelInput(by=OWNER, reason="Test over."))


async def test_the_owner_ends_an_end_of_life_whose_notice_is_held(stack: Stack) -> None:
    handle, _ = await rejected_notice(stack)

    await handle.execute_update(EolWorkflow.recover, word("end", "The product stays after all."))
    result = await finished(handle)

    assert result.status == ProcessStatus.REJECTED and "The product stays after all." in (result.outcome or "")
    assert events(stack.trail(handle.id), "step_ended")
    await settled(handle)


async def test_a_notice_asked_again_after_its_announce_time_goes_out_once_approved(stack: Stack) -> None:
    handle, _ = await rejected_notice(stack)
    view = await view_of(handle)
    announce = nine_utc(milestone_date(view, "announce_date"))
    await advance_to(stack, announce + timedelta(days=1))  # the hold lasts 14 days: the announce time has passed

    await handle.execute_update(EolWorkflow.recover, word("rerun", "Late, but better than never."))
    second = await notice_in_review(stack, handle, n=2)
    [started] = events(stack.trail(handle.id), "notice_started", process=second.id)
    assert started.details["send_at"] > announce.isoformat()  # now, not the announce time gone by
    await approve_notice(second)

    async def sent() -> bool:
        return bool(events(stack.trail(handle.id), "notice_sent", process=second.id))

    await eventually(sent, "the second notice to go out")
    assert len([m for m in stack.outbox(second.id) if ":send:" in m.key]) == 2
    await handle.execute_update(EolWorkflow.cancel, CancelInput(by=OWNER, reason="Test over."))
