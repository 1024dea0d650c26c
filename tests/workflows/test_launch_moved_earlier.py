"""A launch moved earlier than its open items' dates allow: fitted into the days left as a late start is, or,
when its template keeps its dates, the owner told at once of what the move put past its escalation (patch
``launch-moved-earlier``)."""

from __future__ import annotations

from datetime import timedelta

from domain.edits import NewItem
from tests.conftest import Stack
from tests.workflows.helpers import (
    ITEMS,
    OWNER,
    TEMPLATE,
    advance_to,
    emails,
    events,
    kicked_off,
    launch_date,
    naming,
    nine_utc,
    view_of,
)
from tests.workflows.test_edits import edit, tracker_updates

DAY = timedelta(days=1)


async def test_a_launch_moved_20_days_earlier_fits_its_items_into_the_days_left(stack: Stack) -> None:
    handle = await stack.start_launch(days_ahead=30)
    before = await kicked_off(handle)
    today = await stack.today()
    new = today + 10 * DAY
    gate_day = new - timedelta(days=TEMPLATE.gate.offset_days)

    edited = await edit(handle, launch_date=new, reason="The conference moved up.")
    after = await view_of(handle)
    due = {item.key: item.due for item in after.items}

    [change] = edited.changes
    said = "9 open items fitted into the 10 days left before launch day, none due before today"
    assert change.sentence.endswith(f"; {said}")
    assert min(due.values()) == today == due["release-plan"], "nothing is due before today"
    by_offset = sorted(ITEMS, key=lambda key: ITEMS[key].due_offset_days)
    assert [due[key] for key in by_offset] == sorted(due.values()), "the order of the items is kept"
    assert all(due[key] <= gate_day for key in ITEMS), "what was due before the gate opens still is"
    assert {i.key: i.due for i in before.items} != due

    trail = stack.trail(handle.id)
    [compressed] = events(trail, "checklist_compressed")
    assert compressed.step == "checklist"
    assert (compressed.details["days_left"], compressed.details["assumed_days"]) == (10, 28)
    fitted = {m["item"]: (m["before"], m["after"]) for m in compressed.details["items"]}
    assert {key: after for key, (_, after) in fitted.items()} == {k: due[k].isoformat() for k in fitted}
    assert fitted["release-plan"] == ((today + 2 * DAY).isoformat(), today.isoformat()), "before: its date before"
    assert set(ITEMS) - set(fitted) == {"monitoring-oncall", "rollback-plan", "success-metrics"}, "3 days out: kept"
    assert events(trail, "edited")[0].seq < compressed.seq
    keys = {i.issue_key: i.due.isoformat() for i in after.items if i.issue_key}
    assert {u["issue_key"]: u["due"] for u in tracker_updates(stack, handle) if u["issue_key"] in keys} == keys
    told = emails(stack.outbox(handle.id), "Changed:")
    [everyone] = [e for e in told if OWNER in e.to and len(e.to) > 1]
    assert said in " ".join(everyone.body.split())
    assert events(trail, "escalation") == [], "nothing the move made due has passed its escalation"

    # The earliest item, due today, is chased from its new date: overdue, then escalated three days late.
    await advance_to(stack, nine_utc(today + 3 * DAY) + timedelta(hours=1))
    trail = stack.trail(handle.id)
    assert naming(trail, "reminder", "release-plan")
    assert len(naming(trail, "escalation", "release-plan")) == 1


async def test_a_template_that_keeps_its_dates_escalates_what_the_move_put_past_its_escalation(
    stack: Stack,
) -> None:
    handle = await stack.start_launch(days_ahead=30, overrides={"compress_when_late": False})
    await kicked_off(handle)
    today = await stack.today()
    new = today + 5 * DAY  # 25 days earlier: release-plan due 23 days ago, documentation 5 days ago

    edited = await edit(handle, launch_date=new)
    after = await view_of(handle)
    trail = stack.trail(handle.id)

    assert "fitted" not in edited.changes[0].sentence and events(trail, "checklist_compressed") == []
    assert {i.key: i.due for i in after.items} == {
        key: new + timedelta(days=s.due_offset_days) for key, s in ITEMS.items()
    }
    past = ["release-plan", "pricing-billing", "legal-review", "security-review", "documentation"]
    [event] = events(trail, "escalation")
    assert (event.step, event.details["items"], event.details["at_kickoff"]) == ("checklist", past, False)
    [escalation] = emails(stack.outbox(handle.id), "Escalation")
    assert escalation.to == [OWNER] and escalation.subject.endswith("are 5 days overdue")
    assert f"moved earlier, to {new}, which puts these items 5 days or more" in " ".join(escalation.body.split())
    assert all(ITEMS[key].title in escalation.body for key in past)
    assert ITEMS["release-notes"].title not in escalation.body, "due two days ago: its escalation is still ahead"

    # Their moment has passed: none escalated again; the next item's escalation comes at its own time.
    await advance_to(stack, nine_utc(launch_date(after)) - timedelta(hours=1))
    trail = stack.trail(handle.id)
    for key in past:
        assert len(naming(trail, "escalation", key)) == 1, key
    assert len(naming(trail, "escalation", "release-notes")) == 1


async def test_an_item_already_late_keeps_its_date_and_is_not_escalated_by_the_move(stack: Stack) -> None:
    """A review's finding: a move earlier pushed an item one day late two weeks further into the past, and the
    owner heard at once that it was 18 days overdue."""
    handle = await stack.start_launch(days_ahead=30)
    before = await kicked_off(handle)
    today = await stack.today()
    await advance_to(stack, nine_utc(today + 3 * DAY) + timedelta(hours=1))  # release-plan (due day 2): a day late
    now = today + 3 * DAY

    edited = await edit(handle, launch_date=now + 10 * DAY)
    after = await view_of(handle)
    due = {item.key: item.due for item in after.items}
    trail = stack.trail(handle.id)

    assert due["release-plan"] == {i.key: i.due for i in before.items}["release-plan"] == today + 2 * DAY
    assert min(due[key] for key in ITEMS if key != "release-plan") == now, "the others fitted from today"
    [compressed] = events(trail, "checklist_compressed")
    assert "release-plan" not in {m["item"] for m in compressed.details["items"]}
    assert "fitted into the 10 days left" in edited.changes[0].sentence
    assert events(trail, "escalation") == [] and emails(stack.outbox(handle.id), "Escalation") == []
    told = [e for e in emails(stack.outbox(handle.id), "Changed:") if e.to == [OWNER]]
    assert all("Release plan" not in e.body for e in told), "its owner is not told of a new date it does not have"


async def test_items_added_with_the_move_are_due_when_the_edit_says(stack: Stack) -> None:
    """A review's finding: an item added in the edit that moves the launch was moved too (its date is given for
    the new plan) and the answer and the email counted it differently."""
    handle = await stack.start_launch(days_ahead=30)
    await kicked_off(handle)
    today = await stack.today()
    new, wanted = today + 10 * DAY, today + 8 * DAY

    edited = await edit(handle, launch_date=new, add_items=[NewItem(title="Press kit", owner=OWNER, due=wanted)])
    after = await view_of(handle)

    assert {item.key: item.due for item in after.items}["press-kit"] == wanted
    said = "9 open items fitted into the 10 days left"
    assert any(said in change.sentence for change in edited.changes)
    [everyone] = [e for e in emails(stack.outbox(handle.id), "Changed:") if OWNER in e.to and len(e.to) > 1]
    assert said in " ".join(everyone.body.split())
