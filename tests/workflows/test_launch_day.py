"""Launch day: the announcement at 09:00 UTC on the date, or a hold and then expiry."""

from __future__ import annotations

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
    Launch,
    advance_to,
    assert_trail_consistent,
    at_moment,
    decide,
    emails,
    events,
    finished,
    gate_open,
    kicked_off,
    launch_moment,
    mark_done,
    sent,
    transitioned,
    view_of,
)


async def test_announcement_waits_for_the_launch_date(launch: Launch, stack: Stack) -> None:
    handle = await launch(days_ahead=30)
    await kicked_off(handle)
    await mark_done(handle, *ITEMS)
    view = await gate_open(handle, stack)
    await decide(handle, VP)
    await decide(handle, LEGAL)
    launch_at = launch_moment(view)

    await advance_to(stack, launch_at - timedelta(hours=1))
    view = await view_of(handle)
    trail = stack.trail(handle.id)
    assert view.status == ProcessStatus.RUNNING
    assert {s.key: s.status for s in view.steps}["launch-day"] == "active"
    assert sent(trail, "announcement") == [] and events(trail, "completed") == []
    assert emails(stack.outbox(handle.id), "is launched") == []

    result = await finished(handle)
    trail = stack.trail(handle.id)

    assert result.status == ProcessStatus.COMPLETED and result.outcome == "launched"
    [email] = sent(trail, "announcement")
    [chat] = sent(trail, "announcement_chat")
    assert at_moment(email.at, launch_at) and at_moment(chat.at, launch_at)
    assert email.details["to"] == sorted([STAKEHOLDER, OWNER]) and chat.details["to"] == [CHANNEL]
    [announcement] = emails(stack.outbox(handle.id), "is launched")
    assert announcement.to == sorted([STAKEHOLDER, OWNER])
    assert view.links["epic"] in transitioned(stack.outbox(handle.id))
    assert trail[-1].action == "completed" and at_moment(trail[-1].at, launch_at)
    assert_trail_consistent(trail, ProcessStatus.COMPLETED)


async def test_without_decisions_the_launch_is_held_then_expires(launch: Launch, stack: Stack) -> None:
    handle = await launch(days_ahead=2)
    view = await gate_open(handle, stack)
    launch_at = launch_moment(view)
    hold_days = 7

    result = await finished(handle)
    trail = stack.trail(handle.id)

    [on_hold] = sent(trail, "on_hold")
    assert at_moment(on_hold.at, launch_at) and on_hold.details["to"] == [OWNER]
    [held] = events(trail, "launch_on_hold")
    assert held.details["waiting_on"] == [VP, LEGAL]
    [email] = emails(stack.outbox(handle.id), "is on hold")
    assert email.to == [OWNER] and f"{VP}, {LEGAL}" in email.body
    assert sent(trail, "announcement") == []

    assert result.status == ProcessStatus.REJECTED
    assert "no go / no-go decision" in (result.outcome or "")
    assert result.gates[0].status == "expired"
    [rejected] = events(trail, "rejected")
    assert at_moment(rejected.at, launch_at + timedelta(days=hold_days))
    assert [e.details["outcome"] for e in events(trail, "gate_closed")] == ["expired"]
    assert all(e.at < launch_at for e in events(trail, "approval_reminder"))
    assert_trail_consistent(trail, ProcessStatus.REJECTED)


async def test_no_step_is_still_active_once_the_launch_is_over(launch: Launch, stack: Stack) -> None:
    handle = await launch(days_ahead=2)
    await gate_open(handle, stack)
    await mark_done(handle, *ITEMS)  # with items open it is not over on launch day: test_launch_open_items.py
    await decide(handle, VP)
    await decide(handle, LEGAL)

    result = await finished(handle)

    assert result.status == ProcessStatus.COMPLETED
    assert [s.key for s in result.steps if s.status == "active"] == []
