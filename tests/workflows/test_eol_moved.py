"""Moving an end of life's later milestones (update `edit`): the waits, the tasks' due dates and the customer
reminders not yet started follow; a milestone passed, out of order or too close to the next is refused."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from domain.edits import Edited, EditInput
from domain.enums import Decision, GateStatus
from domain.updates import DecisionInput
from tests.conftest import Stack
from tests.workflows.helpers import Handle, advance_to, emails, events, nine_utc, refusal, settled
from tests.workflows.test_eol import LEGAL, VP, approve_notice, finish_tasks, notice_in_review, view_of
from workflows.eol import EolWorkflow

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
OWNER = "pm@example.com"
CLOSE_NOTICE = {"end_of_sale": 2, "end_of_support": 2, "shutdown": 5}
"""The template's minimum notice between milestones, small enough for milestones days apart."""


async def start(stack: Stack) -> tuple[Handle, date]:
    """An end of life announced in 2 days, out of sale in 5, of support in 8, shut down in 20 (a customer
    reminder 7 days before, the last approval 3 days before), its notice approved: (it, today)."""
    today = await stack.today()
    handle = await stack.start_eol(
        announce_date=today + 2 * DAY,
        end_of_sale=today + 5 * DAY,
        end_of_support=today + 8 * DAY,
        shutdown_date=today + 20 * DAY,
        template={"notice_reminders": {"days_before_shutdown": [7]}, "min_notice_days": CLOSE_NOTICE},
    )
    await approve_notice(await notice_in_review(stack, handle))
    return handle, today


async def edit(handle: Handle, **changes: Any) -> Edited:
    edited: Edited = await handle.execute_update(EolWorkflow.edit, EditInput(by=OWNER, **changes))
    await settled(handle)
    return edited


def step(view: Any, key: str) -> str:
    return str(next(s.status for s in view.steps if s.key == key))


async def test_a_shutdown_moved_later_opens_the_last_approval_and_shuts_down_at_the_new_times(stack: Stack) -> None:
    handle, today = await start(stack)
    before = {i.key: i.due for i in (await view_of(handle)).items}

    edited = await edit(
        handle, end_of_support=today + 10 * DAY, shutdown_date=today + 27 * DAY, reason="A big customer asked."
    )
    moved = await view_of(handle)
    outbox = stack.outbox(handle.id)
    await finish_tasks(handle)
    await advance_to(stack, nine_utc(today + 17 * DAY) + HOUR)  # the old last approval's opening
    at_old_opening = await view_of(handle)
    await advance_to(stack, nine_utc(today + 20 * DAY) + HOUR)  # the old shutdown, the reminder's new day
    at_old_shutdown = await view_of(handle)
    reminders = events(stack.trail(handle.id), "notice_started")[1:]
    await advance_to(stack, nine_utc(today + 24 * DAY) + HOUR)
    opened = await view_of(handle)
    for approver in (VP, LEGAL):
        await handle.execute_update(
            EolWorkflow.decide, DecisionInput(gate="pull-the-plug", approver=approver, decision=Decision.APPROVE)
        )
        await settled(handle)
    await advance_to(stack, nine_utc(today + 27 * DAY) - HOUR)
    on_the_eve = await view_of(handle)
    await advance_to(stack, nine_utc(today + 27 * DAY) + HOUR)
    shut = await view_of(handle)

    assert [c.what for c in edited.changes] == ["end_of_support", "shutdown_date"]
    assert edited.changes[1].sentence == (
        f"shutdown date moves from {today + 20 * DAY} to {today + 27 * DAY} (7 days later)"
    )
    [trail_event] = events(stack.trail(handle.id), "edited")
    assert [c["what"] for c in trail_event.details["changes"]] == ["end_of_support", "shutdown_date"]
    assert moved.params["shutdown_date"] == (today + 27 * DAY).isoformat()
    after = {i.key: i.due for i in moved.items}
    assert after["support-after-end"] == before["support-after-end"] + 2 * DAY, "anchored on the end of support"
    assert {k: d for k, d in after.items() if k != "support-after-end"} == {
        k: d for k, d in before.items() if k != "support-after-end"
    }
    dues = [o.meta.get("due") for o in outbox if o.channel == "tracker" and o.meta.get("due")]
    assert str(today + 27 * DAY) in map(str, dues) and str(before["support-after-end"] + 2 * DAY) in map(str, dues)
    changed = emails(outbox, "Changed:")
    told = {person for e in changed for person in e.to}
    assert {OWNER, VP, LEGAL} <= told and "support@example.com" in told
    assert any(f"last approval opens on {today + 24 * DAY}" in e.body for e in changed)
    assert at_old_opening.gates[0].status == GateStatus.PENDING
    assert step(at_old_shutdown, "shutdown") == "pending"
    assert [r.details["send_at"][:10] for r in reminders] == [str(today + 20 * DAY)], "7 days before the new date"
    assert opened.gates[0].status == GateStatus.OPEN
    assert step(on_the_eve, "shutdown") == "pending"
    assert step(shut, "shutdown") == "active"
    assert next(i.due for i in shut.items if i.key == "turn-off") == today + 27 * DAY


async def test_a_milestone_passed_out_of_order_or_too_close_is_refused(stack: Stack) -> None:
    handle, today = await start(stack)

    announce = await refusal(handle.execute_update("edit", EditInput(announce_date=today + 3 * DAY)))
    past = await refusal(handle.execute_update("edit", EditInput(end_of_support=today - DAY)))
    order = await refusal(handle.execute_update("edit", EditInput(end_of_sale=today + 9 * DAY)))
    close = await refusal(handle.execute_update("edit", EditInput(shutdown_date=today + 11 * DAY)))
    await advance_to(stack, nine_utc(today + 5 * DAY) + HOUR)
    passed = await refusal(handle.execute_update("edit", EditInput(end_of_sale=today + 6 * DAY)))
    view = await view_of(handle)

    assert announce.type == "Conflict" and "the customer notice is under way" in announce.message
    assert past.type == "InvalidField" and past.message.startswith("end_of_support:") and "past" in past.message
    assert order.type == "InvalidField" and order.message.startswith("end_of_sale:")
    assert f"is after end_of_support ({today + 8 * DAY})" in order.message
    assert close.type == "InvalidField" and close.message.startswith("shutdown_date:")
    assert "at least 5 days" in close.message
    assert passed.type == "Conflict" and f"end of sale was on {today + 5 * DAY}: it has passed" in passed.message
    assert view.params["shutdown_date"] == (today + 20 * DAY).isoformat()
    assert not events(stack.trail(handle.id), "edited")
