"""The outbox adapters: a tracker, mailer and chat that record once per key."""

from __future__ import annotations

import re
from datetime import date

import pytest

from domain.requests import IssueRequest, TransitionRequest
from integrations.outbox import OutboxChat, OutboxMailer, OutboxTracker
from integrations.ports import ChatMessage, Email
from integrations.store import Store

PUBLIC_URL = "https://signoff.example.com/"


@pytest.fixture
def store(database_url: str) -> Store:
    return Store.connect(database_url)


def issue(marker: str, **changes: object) -> IssueRequest:
    return IssueRequest.model_validate(
        {
            "process_id": "launch-acme",
            "marker": marker,
            "project": "LAUNCH",
            "issue_type": "Task",
            "summary": f"Do {marker}",
        }
        | changes
    )


def email(key: str = "email:kickoff") -> Email:
    return Email(key=key, process_id="launch-acme", to=["pm@example.com"], subject="Hi", text="Body\n")


# ---- tracker ------------------------------------------------------------------


def test_issue_key_is_project_and_number(store: Store) -> None:
    ref = OutboxTracker(store, PUBLIC_URL).create_issue(issue("item:docs"))
    assert re.fullmatch(r"LAUNCH-\d+", ref.key)
    assert ref.url == f"https://signoff.example.com/outbox#{ref.key}"


def test_same_marker_gives_the_same_issue_once(store: Store) -> None:
    tracker = OutboxTracker(store, PUBLIC_URL)
    first = tracker.create_issue(issue("item:docs"))
    again = tracker.create_issue(issue("item:docs", summary="Changed"))
    assert again == first
    entries = store.outbox("launch-acme")
    assert len(entries) == 1
    assert entries[0].subject == "Do item:docs"


def test_different_markers_get_different_keys(store: Store) -> None:
    tracker = OutboxTracker(store, PUBLIC_URL)
    keys = [tracker.create_issue(issue(marker)).key for marker in ("epic", "item:docs", "item:legal")]
    assert len(set(keys)) == 3
    assert all(re.fullmatch(r"LAUNCH-\d+", key) for key in keys)
    assert len(store.outbox("launch-acme")) == 3


def test_issue_key_uses_the_requested_project(store: Store) -> None:
    assert OutboxTracker(store, PUBLIC_URL).create_issue(issue("epic", project="ACME")).key.startswith("ACME-")


def test_issue_records_its_fields(store: Store) -> None:
    OutboxTracker(store, PUBLIC_URL).create_issue(
        issue("item:docs", description="Write it.", assignee="docs@example.com", due=date(2026, 12, 5))
    )
    [entry] = store.outbox("launch-acme")
    assert entry.channel == "tracker"
    assert entry.to == ["docs@example.com"]
    assert entry.body.splitlines() == ["Write it.", "Type: Task", "Assignee: docs@example.com", "Due: 2026-12-05"]


def test_transition_is_recorded_once_per_marker(store: Store) -> None:
    tracker = OutboxTracker(store, PUBLIC_URL)
    move = TransitionRequest(
        process_id="launch-acme", marker="transition:LAUNCH-1:Done", issue_key="LAUNCH-1", status="Done"
    )
    tracker.transition_issue(move)
    tracker.transition_issue(move)
    [entry] = store.outbox("launch-acme")
    assert entry.meta == {"issue_key": "LAUNCH-1", "status": "Done", "resolution": "done"}


# ---- mail and chat -------------------------------------------------------------


def test_mail_sent_twice_with_one_key_is_sent_then_duplicate(store: Store) -> None:
    mailer = OutboxMailer(store)
    assert mailer.send(email()).outcome == "sent"
    assert mailer.send(email()).outcome == "duplicate"
    assert len(store.outbox("launch-acme")) == 1


def test_mail_with_different_keys_are_both_sent(store: Store) -> None:
    mailer = OutboxMailer(store)
    assert [mailer.send(email(key)).outcome for key in ("a", "b")] == ["sent", "sent"]


def test_mail_delivery_names_channel_and_recipients(store: Store) -> None:
    delivery = OutboxMailer(store).send(email())
    assert (delivery.key, delivery.channel, delivery.to) == ("email:kickoff", "email", ["pm@example.com"])


def test_chat_posted_twice_with_one_key_is_sent_then_duplicate(store: Store) -> None:
    chat = OutboxChat(store)
    message = ChatMessage(key="chat:kickoff", process_id="launch-acme", channel="#launches", text="Go!")
    first, again = chat.post(message), chat.post(message)
    assert (first.outcome, again.outcome) == ("sent", "duplicate")
    assert first.to == ["#launches"]
    assert len(store.outbox("launch-acme")) == 1
