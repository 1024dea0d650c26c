"""TeamsChat against a local server that answers like a Teams incoming webhook."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from domain.errors import Refused, Unavailable
from integrations.ports import ChatAction, ChatMessage
from integrations.store import Store
from integrations.teams import TeamsChat
from tests.adapters.fake_chat import FakeTeams, full_text, meta, running


@pytest.fixture
def teams() -> Iterator[FakeTeams]:
    with running(FakeTeams()) as server:
        yield server


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.connect(f"sqlite:///{tmp_path / 'signoff.db'}")


@pytest.fixture
def chat(store: Store, teams: FakeTeams) -> TeamsChat:
    chat = TeamsChat(store, teams.webhook_url, timeout=1)
    chat.settle = 0  # a retry here comes at once (the wait itself: tests/adapters/test_slack.py)
    return chat


def message(channel: str = "#launches", key: str = "launch-x:gate:1", **extra: object) -> ChatMessage:
    return ChatMessage.model_validate(
        {"key": key, "process_id": "launch-x", "channel": channel, "text": ":rocket: Launch of *Acme* started", **extra}
    )


ACTIONS = [
    ChatAction(label="Approve", value="tok-1", url="http://signoff.test/approve/tok-1", style="primary"),
    ChatAction(label="Reject", value="tok-1", url="http://signoff.test/approve/tok-1", style="danger"),
    ChatAction(label="Open", value="tok-1", url="http://signoff.test/processes/launch-x"),
]


def test_the_card_carries_the_text(chat: TeamsChat, teams: FakeTeams) -> None:
    delivery = chat.post(message())

    assert delivery.outcome == "sent"
    [received] = teams.received
    assert received.headers["Content-Type"] == "application/json"
    assert received.body["type"] == "message"
    [attachment] = received.body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["content"]["type"] == "AdaptiveCard"
    assert attachment["content"]["body"] == [
        {"type": "TextBlock", "text": "🚀 Launch of **Acme** started", "wrap": True}
    ]
    assert "actions" not in attachment["content"]


def test_each_action_is_an_open_url_button(chat: TeamsChat, teams: FakeTeams) -> None:
    chat.post(message(actions=ACTIONS))

    [card] = teams.cards
    assert card["actions"] == [
        {"type": "Action.OpenUrl", "title": "Approve", "url": "http://signoff.test/approve/tok-1", "style": "positive"},
        {
            "type": "Action.OpenUrl",
            "title": "Reject",
            "url": "http://signoff.test/approve/tok-1",
            "style": "destructive",
        },
        {"type": "Action.OpenUrl", "title": "Open", "url": "http://signoff.test/processes/launch-x"},
    ]


def test_the_same_key_twice_posts_once(chat: TeamsChat, teams: FakeTeams, store: Store) -> None:
    outcomes = [chat.post(message()).outcome, chat.post(message()).outcome]

    assert outcomes == ["sent", "duplicate"]
    assert len(teams.cards) == 1
    assert meta(store, "launch-x:gate:1") == {"via": "teams", "state": "posted"}


def test_a_timeout_after_sending_is_posted_again_and_says_so(chat: TeamsChat, teams: FakeTeams, store: Store) -> None:
    teams.fail_next(delay=2)  # the card is posted; the answer comes after the client's 1 s timeout

    with pytest.raises(Unavailable):
        chat.post(message())
    # A webhook cannot be asked what it posted: at least once, and the outcome says it went again.
    assert chat.post(message()).outcome == "sent_again"
    assert chat.post(message()).outcome == "duplicate"
    assert len(teams.cards) == 2
    row = store.recorded(message().key)
    assert row is not None and row.meta["state"] == "posted" and row.meta["again"] == "after an unknown outcome"


def test_a_refused_post_is_made_by_the_retry(chat: TeamsChat, teams: FakeTeams) -> None:
    teams.fail_next(status=429, retry_after=5)

    with pytest.raises(Unavailable):
        chat.post(message())
    assert chat.post(message()).outcome == "sent"
    assert len(teams.cards) == 1


def test_a_message_to_a_person_is_refused_not_posted_to_the_channel(chat: TeamsChat, teams: FakeTeams) -> None:
    with pytest.raises(Refused, match=r"cannot message vp@example\.com"):
        chat.post(message("vp@example.com", actions=ACTIONS))
    assert teams.received == []


@pytest.mark.parametrize(
    ("status", "match"),
    [(400, "malformed"), (403, "still enabled"), (404, "no longer exists"), (413, "too large")],
)
def test_4xx_is_refused(chat: TeamsChat, teams: FakeTeams, status: int, match: str) -> None:
    teams.fail_next(status=status, body="Bad payload received by generic incoming webhook.")

    with pytest.raises(Refused, match=match):
        chat.post(message())


def test_a_card_teams_would_refuse_is_refused(store: Store, teams: FakeTeams) -> None:
    wrong_path = teams.webhook_url.replace("IncomingWebhook", "Outgoing")

    with pytest.raises(Refused, match="HTTP 404"):
        TeamsChat(store, wrong_path).post(message())


def test_429_is_unavailable_with_retry_after(chat: TeamsChat, teams: FakeTeams) -> None:
    teams.fail_next(status=429, retry_after=7)

    with pytest.raises(Unavailable) as caught:
        chat.post(message())
    assert caught.value.retry_after == 7


@pytest.mark.parametrize(("error", "match"), [(429, "rate limited"), (500, "HTTP 500")])
def test_a_failed_delivery_reported_with_200_is_unavailable(
    chat: TeamsChat, teams: FakeTeams, error: int, match: str
) -> None:
    # The classic webhook answers 200 with a sentence when Teams did not take the card.
    teams.fail_next(
        status=200,
        body=f"Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error {error} "
        "with ContextId tcid=0,server=msgapi-production,cv=abc.0",
    )

    with pytest.raises(Unavailable, match=match):
        chat.post(message())
    assert chat.post(message()).outcome == "sent"  # nothing was posted: the retry posts


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_unavailable(chat: TeamsChat, teams: FakeTeams, status: int) -> None:
    teams.fail_next(status=status, body="Service Unavailable")

    with pytest.raises(Unavailable, match=f"HTTP {status}"):
        chat.post(message())


def test_unreachable_webhook_is_unavailable_and_retried(store: Store, teams: FakeTeams) -> None:
    url = "http://127.0.0.1:9" + teams.path

    with pytest.raises(Unavailable, match="cannot reach"):
        TeamsChat(store, url, timeout=1).post(message())
    assert meta(store, "launch-x:gate:1")["state"] == "failed"


@pytest.mark.parametrize(
    "fault",
    [{"status": 404}, {"status": 500}, {"status": 429}, {"delay": 2}],
    ids=["refused", "server-error", "rate-limited", "timeout"],
)
def test_the_webhook_url_never_appears_in_an_error(chat: TeamsChat, teams: FakeTeams, fault: dict[str, Any]) -> None:
    teams.fail_next(**fault)

    with pytest.raises((Refused, Unavailable)) as caught:
        chat.post(message())

    text = full_text(caught.value)
    assert teams.secret not in text
    assert teams.path not in text
    assert teams.secret not in repr(chat)


def test_the_webhook_url_is_not_in_a_connection_error(store: Store) -> None:
    secret_url = "http://127.0.0.1:9/webhookb2/x/IncomingWebhook/s3cr3t-path/y"

    with pytest.raises(Unavailable) as caught:
        TeamsChat(store, secret_url, timeout=1).post(message())
    assert "s3cr3t-path" not in full_text(caught.value)


def test_check_validates_the_url_shape_only(chat: TeamsChat, teams: FakeTeams, store: Store) -> None:
    assert chat.check().startswith("Teams incoming webhook on 127.0.0.1")
    assert teams.received == []  # nothing was posted
    with pytest.raises(Refused, match="not an https URL"):
        TeamsChat(store, "http://acme.webhook.office.com/webhookb2/abcdefgh").check()
    with pytest.raises(Refused, match="no webhook path"):
        TeamsChat(store, "https://acme.webhook.office.com/").check()
