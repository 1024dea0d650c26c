"""Remind now (update `remind_now`): the people a process waits on get the scheduled reminders' messages at once.

The approvers its open gate waits on get their request again (email, a new link), the owners of its open items
their reminder or overdue notice; each ask once, keyed apart from the scheduled reminders and from other asks,
and the trail names who asked. A second ask within `REMIND_COOLDOWN` of the last is refused, saying from when.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.enums import Channel, Decision, ProcessStatus
from domain.updates import CancelInput, DecisionInput, Reminded, RemindInput
from tests.conftest import Stack
from tests.workflows.helpers import (
    DOCS,
    LEGAL,
    OWNER,
    SUPPORT,
    VP,
    Handle,
    Launch,
    advance_to,
    approval_links,
    decide,
    emails,
    events,
    eventually,
    finished,
    gate_moment,
    gate_open,
    hold_outbox,
    kicked_off,
    mark_done,
    refusal,
    settled,
)
from tests.workflows.test_postmortem import CTO, IC, SRE, add_items, done, review_asked, step_is
from workflows.steps.remind_now import REMIND_COOLDOWN, RemindNow

DAY = timedelta(days=1)


async def remind(handle: Handle, by: str = OWNER) -> Reminded:
    """Ask for a reminder now, and wait until it is out (the update answers before the messages go)."""
    reminded: Reminded = await handle.execute_update(RemindNow.remind_now, RemindInput(by=by, channel=Channel.API))
    await settled(handle)
    return reminded


def asked(stack: Stack, handle: Handle, number: int) -> list[str]:
    """The recipients of the emails of the `number`th reminder someone asked for, one entry per email."""
    return sorted(to for e in stack.outbox(handle.id) if f":asked-{number}:" in f"{e.key}:" for to in e.to)


async def test_the_owners_of_open_items_are_reminded_now_once_per_ask(
    launch: Launch, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    handle = await launch(days_ahead=30)
    view = await kicked_off(handle)
    [done_item, *_] = view.items
    await mark_done(handle, done_item.key)
    still_open = {i.key: i.owner for i in view.items if i.key != done_item.key}

    held = hold_outbox(stack, monkeypatch, lambda channel, subject: channel == "email" and "launch item" in subject)
    reminded: Reminded = await handle.execute_update(RemindNow.remind_now, RemindInput(by=OWNER))
    await held.has_begun("the first reminder to be on its way")
    busy = await refusal(handle.execute_update(RemindNow.remind_now, RemindInput(by=OWNER)))
    held.release()
    await settled(handle)

    assert reminded.approvers == [] and reminded.gate is None, "the gate is not open yet"
    assert {key: owner for owner, keys in reminded.owners.items() for key in keys} == still_open
    assert busy.type == "Conflict" and "being sent already" in busy.message
    trail = stack.trail(handle.id)
    [requested] = events(trail, "remind_requested")
    assert (requested.actor, requested.channel) == (OWNER, "api")
    rows = events(trail, "reminder", asked_by=OWNER)
    assert sorted(k for row in rows for k in row.details["items"]) == sorted(still_open)
    assert all(row.seq > requested.seq for row in rows)
    assert asked(stack, handle, 1) == sorted({row.details["to"] for row in rows})
    mine = [e for e in emails(stack.outbox(handle.id)) if ":asked-1:" in e.key]
    assert {e.subject.split(":")[0] for e in mine} <= {"Reminder", "Overdue"}
    assert all(done_item.title not in e.body for e in mine), "a done item is nobody's reminder"

    await advance_to(stack, requested.at + REMIND_COOLDOWN)
    again = await remind(handle)
    assert again.owners == reminded.owners
    assert asked(stack, handle, 2) == asked(stack, handle, 1), "a second ask reminds them again, once"
    assert len(events(stack.trail(handle.id), "remind_requested")) == 2

    # the scheduled reminders go on as they would have
    await advance_to(stack, (await stack.env.get_current_time()) + 10 * DAY)
    scheduled = [e for e in events(stack.trail(handle.id), "reminder") if "asked_by" not in e.details]
    assert scheduled and all(e.at > requested.at for e in scheduled)


async def test_the_gate_s_silent_approvers_get_their_request_again_with_a_new_link(
    launch: Launch, stack: Stack
) -> None:
    handle = await launch(days_ahead=5)
    view = await kicked_off(handle)
    await advance_to(stack, gate_moment(view))
    await gate_open(handle, stack)
    await decide(handle, VP, Decision.APPROVE)
    links_before = approval_links(stack.outbox(handle.id), LEGAL)

    reminded = await remind(handle)

    assert (reminded.gate, reminded.approvers) == ("Go / no-go", [LEGAL])
    assert DOCS in reminded.owners and SUPPORT in reminded.owners, "the items are late and still open"
    [email] = [e for e in emails(stack.outbox(handle.id), "Reminder: Go / no-go") if ":asked-1" in e.key]
    assert email.to == [LEGAL]
    links = approval_links(stack.outbox(handle.id), LEGAL)
    assert len(links) == len(links_before) + 1 and links[-1] not in links_before
    [row] = events(stack.trail(handle.id), "approval_reminder", asked_by=OWNER)
    assert row.details["approvers"] == [LEGAL] and row.details["round"] == 1
    late = [e for e in emails(stack.outbox(handle.id), "Overdue") if ":asked-1:" in e.key]
    assert late, "items past their due date are reminded as overdue"


async def test_a_post_mortem_reminds_whom_it_waits_on_not_a_draft_under_review(stack: Stack) -> None:
    handle = await stack.start_postmortem()
    await step_is(handle, "draft", "active")

    drafting = await remind(handle, by=IC)
    await advance_to(stack, (await stack.env.get_current_time()) + REMIND_COOLDOWN)
    await done(handle, "draft")
    await review_asked(stack, handle)
    await add_items(handle, {"title": "Alert on payment error rate", "owner": SRE, "priority": "P1"})
    in_review = await remind(handle, by=IC)

    assert (drafting.approvers, drafting.owners) == ([], {IC: ["draft"]})
    assert (in_review.approvers, in_review.owners) == ([CTO], {SRE: ["action-1"]})
    assert asked(stack, handle, 2) == sorted([CTO, SRE])
    [reminder] = [e for e in stack.outbox(handle.id) if ":asked-2:" in e.key and e.to == [SRE]]
    assert "Alert on payment error rate" in reminder.body


async def test_nothing_waiting_or_ended_is_refused(stack: Stack) -> None:
    message = await stack.start_comms()

    async def in_review() -> bool:
        return bool(events(stack.trail(message.id), "review_requested"))

    await eventually(in_review, "the review to be asked for")
    await message.execute_update(
        "decide", DecisionInput(gate="review", approver="eng@example.com", decision=Decision.CHANGES, comment="When?")
    )
    await settled(message)
    nobody = await refusal(message.execute_update(RemindNow.remind_now, RemindInput(by=OWNER)))

    launch = await stack.start_launch()
    await kicked_off(launch)
    await launch.execute_update("cancel", CancelInput(by=OWNER, reason="moved"))
    ended = await refusal(launch.execute_update(RemindNow.remind_now, RemindInput(by=OWNER)))
    assert (await finished(launch)).status == ProcessStatus.CANCELLED

    assert nobody.type == "Conflict" and "waits on nobody now" in nobody.message
    assert ended.type == "Conflict" and "it waits on nobody" in ended.message
    assert events(stack.trail(message.id), "remind_requested") == []


async def test_a_second_ask_within_the_hour_is_refused_saying_from_when(launch: Launch, stack: Stack) -> None:
    paris = ZoneInfo("Europe/Paris")
    handle = await launch(days_ahead=30, time_zone="Europe/Paris")
    await kicked_off(handle)
    before = await stack.env.get_current_time()
    await remind(handle)
    after = await stack.env.get_current_time()

    soon = await refusal(handle.execute_update(RemindNow.remind_now, RemindInput(by=OWNER)))
    [requested] = events(stack.trail(handle.id), "remind_requested")
    await advance_to(stack, after + REMIND_COOLDOWN + timedelta(minutes=1))
    later = await remind(handle, by=DOCS)

    assert soon.type == "Conflict", soon.message
    said = re.fullmatch(r"a reminder was asked for at (.+) already: ask again from (.+) (CES?T)", soon.message)
    assert said, soon.message
    again = datetime.strptime(said[2], "%Y-%m-%d %H:%M").replace(tzinfo=paris)
    floor = before + REMIND_COOLDOWN - timedelta(minutes=1)
    assert floor < again <= after + REMIND_COOLDOWN + timedelta(minutes=1), "an hour on, in Paris time, to the minute"
    assert DOCS in later.owners, "an hour later it is accepted"
    assert [e.actor for e in events(stack.trail(handle.id), "remind_requested")] == [requested.actor, DOCS]
    assert asked(stack, handle, 2), "the second ask's reminders went out"
