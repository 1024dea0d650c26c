"""A launch started with less time than its checklist assumes (issue #14): compressed, or its late items named."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import Stack
from tests.workflows.helpers import (
    DOCS,
    ITEMS,
    OWNER,
    TEMPLATE,
    advance_to,
    chats,
    emails,
    events,
    issues,
    kicked_off,
    launch_date,
    naming,
    nine_utc,
    sent,
)

DAY = timedelta(days=1)
LATE = ["release-plan", "pricing-billing", "legal-review", "security-review"]
"""The default template's items due more than 14 days before launch day: late in a launch started 14 days out."""


async def test_a_launch_14_days_out_compresses_its_checklist_and_says_so(stack: Stack) -> None:
    handle = await stack.start_launch(days_ahead=14)
    view = await kicked_off(handle)
    today, day = await stack.today(), launch_date(view)
    gate_day = day - timedelta(days=TEMPLATE.gate.offset_days)
    due = {item.key: item.due for item in view.items}

    assert min(due.values()) == today == due["release-plan"], "the earliest item is due today, none before"
    by_offset = sorted(ITEMS, key=lambda key: ITEMS[key].due_offset_days)
    assert [due[key] for key in by_offset] == sorted(due.values()), "the order of the items is kept"
    assert all(due[key] <= gate_day for key in ITEMS), "what was due before the gate opens still is"
    assert due["documentation"] == day - timedelta(days=5) and due["legal-review"] == day - timedelta(days=11)

    trail = stack.trail(handle.id)
    [compressed] = events(trail, "checklist_compressed")
    assert (compressed.details["days_left"], compressed.details["assumed_days"]) == (14, 28)
    moved = {m["item"]: (m["before"], m["after"]) for m in compressed.details["items"]}
    assert moved["release-plan"] == ((day - timedelta(days=28)).isoformat(), today.isoformat())
    assert {key: after for key, (_, after) in moved.items()} == {k: d.isoformat() for k, d in due.items()}
    assert compressed.seq < events(trail, "issue_created")[0].seq, "the issues are filed with the new dates"

    said = "This launch started 14 days before launch day; the checklist assumes 28; due dates were compressed."
    outbox = stack.outbox(handle.id)
    [kickoff] = chats(outbox)
    assert said in kickoff.body and "already late" not in kickoff.body
    owners_emails = emails(outbox, "your checklist items")
    assert sorted(e.to[0] for e in owners_emails) == sorted([OWNER, DOCS, "support@example.com"])
    assert all(said in " ".join(e.body.split()) for e in owners_emails)
    [pm] = [e for e in owners_emails if e.to == [OWNER]]
    assert "already late" not in pm.body
    assert "except Release plan and date check (due too soon; first reminder on" in " ".join(pm.body.split())
    task = next(t for t in issues(outbox) if t.subject.startswith("Product documentation"))
    assert f"Due: {due['documentation']}" in task.body
    assert events(trail, "escalation") == []


async def test_a_launch_with_time_enough_is_not_compressed(stack: Stack) -> None:
    handle = await stack.start_launch(days_ahead=28)
    view = await kicked_off(handle)

    assert {item.key: item.due for item in view.items} == {
        key: launch_date(view) + timedelta(days=spec.due_offset_days) for key, spec in ITEMS.items()
    }
    assert events(stack.trail(handle.id), "checklist_compressed") == []
    assert "compressed" not in chats(stack.outbox(handle.id))[0].body
    # Due today, the earliest item is on time but too close for a reminder: the kickoff promises none.
    [pm] = [e for e in emails(stack.outbox(handle.id), "your checklist items") if e.to == [OWNER]]
    assert "already late" not in pm.body
    assert "except Release plan and date check (due too soon; first reminder on" in " ".join(pm.body.split())
    [docs] = [e for e in emails(stack.outbox(handle.id), "your checklist items") if e.to == [DOCS]]
    assert "You will get a reminder before each is due." in " ".join(docs.body.split())


async def test_without_compression_the_kickoff_names_late_items_and_escalates_them_at_once(stack: Stack) -> None:
    handle = await stack.start_launch(days_ahead=14, overrides={"compress_when_late": False})
    view = await kicked_off(handle)
    day = launch_date(view)

    assert {item.key: item.due for item in view.items}["release-plan"] == day - timedelta(days=28)
    trail = stack.trail(handle.id)
    assert events(trail, "checklist_compressed") == []
    outbox = stack.outbox(handle.id)
    [kickoff] = chats(outbox)
    titles = ", ".join(ITEMS[key].title for key in LATE)
    assert f":warning: 4 items are already late: {titles}." in kickoff.body
    [pm] = [e for e in emails(outbox, "your checklist items") if e.to == [OWNER]]
    body = " ".join(pm.body.split())
    for key in LATE:
        assert f"{ITEMS[key].title} — due {day + timedelta(days=ITEMS[key].due_offset_days)}" in body
        assert f"{ITEMS[key].title} (already late; first reminder on" in body
    assert body.count(", already late") == 4
    [docs] = [e for e in emails(outbox, "your checklist items") if e.to == [DOCS]]
    assert "already late" not in docs.body and "You will get a reminder before each is due." in docs.body

    # The owner hears at kickoff of the items already past their escalation (3 days late): all four.
    [escalation] = emails(outbox, "Escalation")
    assert escalation.to == [OWNER]
    assert escalation.subject.endswith("are already 7 days overdue")
    assert "started with these items already 7 days or more past their due date" in " ".join(escalation.body.split())
    assert all(ITEMS[key].title in escalation.body for key in LATE)
    [event] = events(trail, "escalation")
    assert event.details["items"] == LATE and event.details["at_kickoff"] is True and event.step == "kickoff"
    [message] = sent(trail, "escalation")
    assert message.seq < event.seq

    # Their escalation moment has passed: no second escalation; overdue reminders go on.
    await advance_to(stack, nine_utc(day) - timedelta(hours=1))
    trail = stack.trail(handle.id)
    for key in LATE:
        assert len(naming(trail, "escalation", key)) == 1, key
    assert naming(trail, "reminder", "release-plan"), "the late items' owners are still reminded while overdue"
    assert naming(trail, "escalation", "documentation"), "an item late after the start is escalated as before"
