"""Kickoff: an epic, one issue per checklist item, a chat post, one email per owner."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import Stack
from tests.workflows.helpers import (
    CHANNEL,
    DOCS,
    ITEMS,
    OWNER,
    SUPPORT,
    Launch,
    chats,
    emails,
    events,
    issues,
    kicked_off,
    launch_date,
)

COUNSEL = "counsel@example.com"
OWNERS = {"docs": DOCS, "support": SUPPORT, "legal": "Counsel@Example.com"}


async def test_kickoff_opens_one_issue_per_item_assigned_by_role(launch: Launch, stack: Stack) -> None:
    handle = await launch(days_ahead=30, owners=OWNERS)
    view = await kicked_off(handle)
    day = launch_date(view)
    product = view.params["product"]

    assert [i.key for i in view.items] == list(ITEMS) and len(view.items) == 12
    expected_owner = {"docs": DOCS, "support": SUPPORT, "legal": COUNSEL}
    for item in view.items:
        assert item.owner == expected_owner.get(ITEMS[item.key].role, OWNER), item.key
        assert item.due == day + timedelta(days=ITEMS[item.key].due_offset_days), item.key
        assert item.status == "open"
    by_key = {i.key: i for i in view.items}
    assert by_key["documentation"].due == day - timedelta(days=10)
    assert by_key["release-plan"].due == day - timedelta(days=28)
    assert by_key["success-metrics"].due == day - timedelta(days=3)

    outbox = stack.outbox(handle.id)
    epic_key = view.links["epic"]
    epic, *tasks = issues(outbox)
    assert epic.subject == f"Launch: {product} on {day}" and epic.to == [OWNER]
    assert "Type: Epic" in epic.body
    assert len(tasks) == 12
    task_for = {t.subject: t for t in tasks}
    for item in view.items:
        task = task_for[f"{item.title} — {product}"]
        assert task.to == [item.owner]
        assert f"Due: {item.due}" in task.body and f"Parent: {epic_key}" in task.body
    assert len({i.issue_key for i in view.items} | {epic_key}) == 13 and None not in {i.issue_key for i in view.items}

    created = events(stack.trail(handle.id), "issue_created")
    assert len(created) == 13
    assert {e.details["assignee"] for e in created} == {OWNER, DOCS, SUPPORT, COUNSEL}


async def test_kickoff_posts_once_to_the_channel(launch: Launch, stack: Stack) -> None:
    handle = await launch(days_ahead=30)
    view = await kicked_off(handle)

    [post] = chats(stack.outbox(handle.id))
    assert post.to == [CHANNEL]
    assert view.params["product"] in post.body
    assert "12 checklist items" in post.body and view.links["epic"] in post.body
    gate_opens = launch_date(view) - timedelta(days=3)
    assert f"go/no-go opens {gate_opens}" in post.body


async def test_kickoff_emails_each_owner_their_own_items(launch: Launch, stack: Stack) -> None:
    handle = await launch(days_ahead=30, owners=OWNERS)
    view = await kicked_off(handle)

    kickoff_emails = emails(stack.outbox(handle.id), "your checklist items")
    assert sorted(e.to[0] for e in kickoff_emails) == sorted([OWNER, DOCS, SUPPORT, COUNSEL])
    for email in kickoff_emails:
        [owner] = email.to
        for item in view.items:
            listed = f"{item.title} — due {item.due} ({item.issue_key})" in email.body
            assert listed == (item.owner == owner), f"{item.key} in the email to {owner}: {listed}"
    sent = events(stack.trail(handle.id), "message_sent", template="kickoff_owner")
    assert sorted(e.details["to"][0] for e in sent) == sorted([OWNER, DOCS, SUPPORT, COUNSEL])
