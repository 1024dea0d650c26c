"""ChatActivities: approval requests with buttons, skipped where a chat cannot reach a person; edits in place."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from activities.chat import ChatActivities
from api.tokens import ApprovalLinks, ApprovalTokens
from domain.requests import ApprovalLinkRequest, Delivery, MessageRequest
from integrations.messages import TemplateRenderer
from integrations.outbox import OutboxChat
from integrations.ports import ChatMessage
from integrations.store import Store
from tests.unit.message_contexts import BASE, CHAT_CONTEXTS

TOKENS = ApprovalTokens("test-secret")
LINKS = ApprovalLinks(TOKENS, "https://signoff.test")


class RecordingChat:
    """A chat that keeps what it is asked to post and edit."""

    def __init__(self, direct_messages: bool) -> None:
        self.direct_messages = direct_messages
        self.posted: list[ChatMessage] = []
        self.updated: dict[str, str] = {}

    def post(self, message: ChatMessage) -> Delivery:
        self.posted.append(message)
        return Delivery(key=message.key, channel="chat", to=[message.channel])

    def update(self, key: str, text: str) -> bool:
        if key not in {m.key for m in self.posted}:
            return False
        self.updated[key] = text
        return True


def approval_request() -> ApprovalLinkRequest:
    return ApprovalLinkRequest(
        process_id="launch-x",
        key="launch-x:approval-chat:go-no-go:1:vp@example.com",
        template="approval_request_chat",
        gate="go-no-go",
        round=1,
        approver="vp@example.com",
        token_id="tok-1",
        expires_at=datetime(2026, 12, 22, 9, tzinfo=UTC),
        context=BASE | CHAT_CONTEXTS["approval_request_chat"],
    )


def test_an_approval_request_goes_to_the_approver_with_buttons_carrying_their_token() -> None:
    chat = RecordingChat(direct_messages=True)
    request = approval_request()

    delivery = ChatActivities(chat, TemplateRenderer(), LINKS).post_approval_request(request)

    assert delivery.outcome == "sent"
    [message] = chat.posted
    assert message.channel == "vp@example.com"
    assert "asks for your go / no-go decision" in message.text and "2026-12-22 09:00 UTC" in message.text
    token = TOKENS.sign(request.claims())
    assert [(a.label, a.style, a.value) for a in message.actions] == [
        ("Approve", "primary", token),
        ("Reject", "danger", token),
        ("Open (comment)", None, token),
    ]
    assert {a.url for a in message.actions} == {f"https://signoff.test/approve/{token}"}
    assert TOKENS.read(token, datetime(2026, 12, 1, tzinfo=UTC)).approver == "vp@example.com"


def test_an_approval_request_is_skipped_where_chat_cannot_reach_a_person() -> None:
    chat = RecordingChat(direct_messages=False)

    delivery = ChatActivities(chat, TemplateRenderer(), LINKS).post_approval_request(approval_request())

    assert delivery.outcome == "skipped"
    assert chat.posted == []


@pytest.mark.parametrize("posted", [True, False])
def test_update_edits_the_message_or_says_there_was_none(posted: bool) -> None:
    chat = RecordingChat(direct_messages=True)
    activities = ChatActivities(chat, TemplateRenderer(), LINKS)
    request = approval_request()
    if posted:
        activities.post_approval_request(request)
    update = MessageRequest(
        process_id="launch-x",
        key=request.key,
        template="approval_settled_chat",
        to=["vp@example.com"],
        context=BASE | CHAT_CONTEXTS["approval_settled_chat"],
    )

    delivery = activities.update_message(update)

    assert delivery.outcome == ("sent" if posted else "skipped")
    if posted:
        assert chat.updated[request.key].startswith(":white_check_mark: You approved the launch of")
        assert chat.updated[request.key].endswith("https://signoff.test/processes/launch-x\n")
    else:
        assert chat.updated == {}


def test_the_outbox_shows_buttons_as_links_and_edits_in_place(tmp_path: Path) -> None:
    store = Store.connect(f"sqlite:///{tmp_path / 's.db'}")
    activities = ChatActivities(OutboxChat(store), TemplateRenderer(), LINKS)
    request = approval_request()
    activities.post_approval_request(request)
    entry = store.recorded(request.key)
    assert entry is not None
    token = TOKENS.sign(request.claims())
    assert entry.body.endswith(
        f"[Approve] https://signoff.test/approve/{token}\n[Reject] https://signoff.test/approve/{token}\n"
        f"[Open (comment)] https://signoff.test/approve/{token}"
    )

    assert OutboxChat(store).update(request.key, "You approved.")
    assert OutboxChat(store).update("launch-x:never", "x") is False
    rewritten = store.recorded(request.key)
    assert rewritten is not None and rewritten.body == "You approved."
