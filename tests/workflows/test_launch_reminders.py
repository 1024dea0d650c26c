"""Reminders before an item is due, overdue reminders, and the escalation to the owner."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import Stack
from tests.workflows.helpers import (
    DOCS,
    OWNER,
    SUPPORT,
    Launch,
    advance_to,
    at_moment,
    due_moment,
    emails,
    events,
    kicked_off,
    launch_moment,
    mark_done,
    naming,
    sent,
)

DAY = timedelta(days=1)


async def test_item_is_reminded_before_due_then_while_overdue_then_escalated(launch: Launch, stack: Stack) -> None:
    handle = await launch(days_ahead=30)
    view = await kicked_off(handle)
    due = due_moment(view, "documentation")  # launch date - 10 days, 09:00 UTC
    assert due == launch_moment(view) - 10 * DAY

    await advance_to(stack, launch_moment(view) - timedelta(hours=1))
    trail = stack.trail(handle.id)

    reminders = naming(trail, "reminder", "documentation")
    expected = [
        (due - 3 * DAY, "reminder"),
        (due - 1 * DAY, "reminder"),
        (due + 2 * DAY, "overdue"),
        (due + 4 * DAY, "overdue"),
        (due + 6 * DAY, "overdue"),
        (due + 8 * DAY, "overdue"),  # the next one, due + 10 days, is launch day itself
    ]
    assert len(reminders) == len(expected), [(e.at, e.details) for e in reminders]
    for event, (moment, kind) in zip(reminders, expected, strict=True):
        assert at_moment(event.at, moment), f"{kind} at {event.at}, expected {moment}"
        assert event.details["kind"] == kind and event.details["to"] == DOCS

    [escalation] = naming(trail, "escalation", "documentation")
    assert at_moment(escalation.at, due + 3 * DAY)
    [escalation_email] = [e for e in sent(trail, "escalation") if at_moment(e.at, due + 3 * DAY)]
    assert escalation_email.details["to"] == [OWNER]
    [email] = [e for e in emails(stack.outbox(handle.id), "Escalation") if "Product documentation" in e.body]
    assert email.to == [OWNER]
    assert "3 days overdue" in email.subject and f"owned by {DOCS}" in email.body


async def test_item_marked_done_gets_no_more_reminders(launch: Launch, stack: Stack) -> None:
    handle = await launch(days_ahead=30)
    view = await kicked_off(handle)
    due = due_moment(view, "support-training")  # launch date - 7 days

    await advance_to(stack, due - 3 * DAY + timedelta(hours=3))  # after its first reminder
    [first] = naming(stack.trail(handle.id), "reminder", "support-training")
    assert at_moment(first.at, due - 3 * DAY) and first.details["to"] == SUPPORT

    [done] = await mark_done(handle, "support-training", by=SUPPORT)
    assert done.status == "done" and done.done_by == SUPPORT
    await advance_to(stack, launch_moment(view) - timedelta(hours=1))
    trail = stack.trail(handle.id)

    assert naming(trail, "reminder", "support-training") == [first]
    assert naming(trail, "escalation", "support-training") == []
    later = [e for e in trail if e.action == "reminder" and e.at > first.at]
    assert later, "other items kept being reminded"
    assert all(e.details["to"] != SUPPORT for e in later)


async def test_no_reminder_for_moments_before_the_process_started(launch: Launch, stack: Stack) -> None:
    # release-plan was due 23 days ago: the template's dates kept (test_launch_late_start.py compresses them)
    handle = await launch(days_ahead=5, overrides={"compress_when_late": False})
    view = await kicked_off(handle)
    launch_at = launch_moment(view)
    due = due_moment(view, "release-plan")

    await advance_to(stack, launch_at - timedelta(hours=1))
    trail = stack.trail(handle.id)
    started_at = events(trail, "started")[0].at

    notices = [e for e in trail if e.action in ("reminder", "escalation")]
    assert notices, "overdue items after the start are still reminded"
    assert all(e.at > started_at for e in notices)
    expected = [due + n * 2 * DAY for n in range(1, 15) if started_at < due + n * 2 * DAY < launch_at]
    actual = naming(trail, "reminder", "release-plan")
    assert [e.details["kind"] for e in actual] == ["overdue"] * len(expected)
    assert len(actual) == len(expected)
    assert all(at_moment(e.at, m) for e, m in zip(actual, expected, strict=True))
    # its escalation moment was before the start: the owner heard at kickoff, once
    [escalation] = naming(trail, "escalation", "release-plan")
    assert escalation.details["at_kickoff"] is True and escalation.at < actual[0].at
