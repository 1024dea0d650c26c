"""SlackChat against a local server that answers like Slack's Web API; request signing and interactions."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from domain.errors import BadInput, Refused, Unavailable
from integrations.ports import ChatAction, ChatMessage
from integrations.slack import SlackChat
from integrations.slack_interactions import BadSignature, NotADecision, parse_interaction, verify_request
from integrations.store import Store
from tests.adapters.fake_chat import FakeSlack, full_text, meta, running

TOKEN = "xoxb-test-token"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with running(FakeSlack(TOKEN)) as server:
        yield server


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.connect(f"sqlite:///{tmp_path / 'signoff.db'}")


@pytest.fixture
def chat(store: Store, slack: FakeSlack) -> SlackChat:
    chat = SlackChat(store, TOKEN, api_url=slack.api_url, timeout=1)
    chat.settle = 0  # a retry here comes at once; test_an_unconfirmed_post_is_left_to_its_attempt_for_a_while waits
    return chat


def message(channel: str = "#launches", key: str = "launch-x:gate:1", **extra: object) -> ChatMessage:
    return ChatMessage.model_validate(
        {"key": key, "process_id": "launch-x", "channel": channel, "text": "Go / no-go for *Acme* is open", **extra}
    )


APPROVAL_ACTIONS = [
    ChatAction(label="Approve", value="tok-123", url="http://signoff.test/approve/tok-123", style="primary"),
    ChatAction(label="Reject", value="tok-123", url="http://signoff.test/approve/tok-123", style="danger"),
    ChatAction(label="Open", value="tok-123", url="http://signoff.test/approve/tok-123"),
]


# ---- posting -----------------------------------------------------------


def test_post_to_a_channel(chat: SlackChat, slack: FakeSlack, store: Store) -> None:
    delivery = chat.post(message())

    assert delivery.outcome == "sent"
    [call] = slack.calls("chat.postMessage")
    assert call.headers["Authorization"] == f"Bearer {TOKEN}"
    assert call.body["channel"] == "#launches"
    assert call.body["text"] == "Go / no-go for *Acme* is open"
    assert call.body["blocks"] == [{"type": "section", "text": {"type": "mrkdwn", "text": call.body["text"]}}]
    [(channel, ts)] = slack.messages
    assert meta(store, "launch-x:gate:1") == {"via": "slack", "state": "posted", "channel": channel, "ts": ts}
    assert channel == "C0LAUNCHES"


def test_post_to_an_email_looks_the_person_up_and_sends_a_dm(chat: SlackChat, slack: FakeSlack, store: Store) -> None:
    delivery = chat.post(message("vp@example.com"))

    assert delivery.to == ["vp@example.com"]
    assert [c.body for c in slack.calls("users.lookupByEmail")] == [{"email": "vp@example.com"}]
    assert slack.calls("chat.postMessage")[0].body["channel"] == "U0VP"
    assert meta(store, "launch-x:gate:1")["channel"] == "D0VP"


def test_mrkdwn_control_characters_are_escaped(chat: SlackChat, slack: FakeSlack) -> None:
    chat.post(message(text="Q&A for <beta> users"))

    assert slack.calls("chat.postMessage")[0].body["text"] == "Q&amp;A for &lt;beta&gt; users"


def test_a_long_text_is_split_into_sections_slack_accepts(chat: SlackChat, slack: FakeSlack) -> None:
    text = "Q&A" * 1300  # 3900 characters, 9100 once escaped: 3000 is not a multiple of len("Q&amp;A")

    chat.post(message(text=text))

    sections = [b["text"]["text"] for b in slack.calls("chat.postMessage")[0].body["blocks"]]
    assert len(sections) == 4 and all(len(s) <= 3000 for s in sections)
    assert "".join(sections) == text.replace("&", "&amp;")
    assert all(section.replace("&amp;", "").count("&") == 0 for section in sections)  # no escape cut in two


def test_buttons_carry_the_values_and_styles(chat: SlackChat, slack: FakeSlack) -> None:
    chat.post(message(actions=APPROVAL_ACTIONS))

    blocks = slack.calls("chat.postMessage")[0].body["blocks"]
    assert [b["type"] for b in blocks] == ["section", "actions"]
    approve, reject, link = blocks[1]["elements"]
    assert approve == {
        "type": "button",
        "text": {"type": "plain_text", "text": "Approve", "emoji": True},
        "value": "tok-123",
        "action_id": "signoff_decision:approve",
        "style": "primary",
    }
    assert (reject["action_id"], reject["style"], reject["value"]) == ("signoff_decision:reject", "danger", "tok-123")
    assert "style" not in link and link["url"] == "http://signoff.test/approve/tok-123"
    assert not link["action_id"].startswith("signoff_decision")


def test_the_same_key_twice_posts_once(chat: SlackChat, slack: FakeSlack) -> None:
    first = chat.post(message())
    second = chat.post(message())

    assert (first.outcome, second.outcome) == ("sent", "duplicate")
    assert len(slack.calls("chat.postMessage")) == 1


def test_a_timeout_after_sending_then_a_retry_finds_the_post_and_does_not_post_twice(
    chat: SlackChat, slack: FakeSlack, store: Store
) -> None:
    slack.fail_next(delay=2)  # Slack posts it, then answers after the client's 1 s timeout

    with pytest.raises(Unavailable):
        chat.post(message())
    retried = chat.post(message())

    assert retried.outcome == "duplicate"
    assert len(slack.calls("chat.postMessage")) == 1
    assert len(slack.messages) == 1
    (where, ts), _ = next(iter(slack.messages.items()))
    row = store.recorded(message().key)
    assert row is not None and (row.meta["state"], row.meta["channel"], row.meta["ts"]) == ("posted", where, ts)
    assert chat.update(message().key, "Approved")  # found, it can be edited: its buttons come off


@pytest.mark.parametrize("to", ["#launches", "C0LAUNCHES", "vp@example.com"])
def test_a_connection_dropped_after_sending_is_found_not_resent(chat: SlackChat, slack: FakeSlack, to: str) -> None:
    # The SDK's own retry would resend this one; Temporal's retry must not either.
    chat.post(message(to, key="an-earlier-post"))  # another message in the same channel, found and passed over
    if "@" in to:
        slack.fail_next()  # the look-up of the person goes through; the post is the request that drops
    slack.fail_next(drop=True)

    with pytest.raises(Unavailable):
        chat.post(message(to))
    assert chat.post(message(to)).outcome == "duplicate"

    assert len(slack.calls("chat.postMessage")) == 2
    assert slack.calls("conversations.history")


def test_a_post_whose_outcome_is_unknown_and_that_never_landed_is_posted(chat: SlackChat, slack: FakeSlack) -> None:
    # A worker killed between claiming the post and Slack's answer; Slack never got the request.
    assert chat.ledger.claim_post(message()) is not None

    assert chat.post(message()).outcome == "sent"
    assert len(slack.messages) == 1
    assert chat.post(message()).outcome == "duplicate"


def test_an_unconfirmed_post_is_left_to_its_attempt_for_a_while(chat: SlackChat, slack: FakeSlack) -> None:
    # Temporal starts the next attempt when a heartbeat is late: the first may still be posting.
    chat.settle = 60
    assert chat.ledger.claim_post(message()) is not None

    with pytest.raises(Unavailable, match="may still be sending") as waiting:
        chat.post(message())
    assert waiting.value.retry_after is not None and 55 < waiting.value.retry_after <= 60
    assert slack.calls("chat.postMessage") == [] and slack.calls("conversations.history") == []


def test_a_slow_attempt_given_up_on_does_not_undo_the_next(chat: SlackChat, slack: FakeSlack, store: Store) -> None:
    first = chat.ledger.claim_post(message())
    assert first is not None
    assert chat.post(message()).outcome == "sent"  # the next attempt took the post over and posted

    chat.ledger.failed(message().key, first, error="the first attempt's late failure")

    row = store.recorded(message().key)
    assert row is not None and row.meta["state"] == "posted"
    assert chat.post(message()).outcome == "duplicate"


def test_a_look_up_slack_refuses_posts_anyway_and_says_so(chat: SlackChat, slack: FakeSlack, store: Store) -> None:
    assert chat.ledger.claim_post(message("C0NOTJOINED")) is not None
    slack.channels["notjoined"] = "C0NOTJOINED"
    slack.joined.add("C0NOTJOINED")
    slack.fail_next(error="missing_scope")  # conversations.history: installed without channels:history

    assert chat.post(message("C0NOTJOINED")).outcome == "sent"
    row = store.recorded(message("C0NOTJOINED").key)
    assert (row is not None and "missing_scope" in row.meta["not_looked_for"]) or "scope" in row.meta["not_looked_for"]


def test_the_look_up_of_a_person_comes_before_the_claim(chat: SlackChat, slack: FakeSlack, store: Store) -> None:
    with pytest.raises(Refused, match="nobody in the workspace"):
        chat.post(message("nobody@example.com"))
    assert store.recorded(message("nobody@example.com").key) is None  # nothing claimed, nothing left "posting"


def test_a_look_up_that_broke_does_not_stop_the_retry(chat: SlackChat, slack: FakeSlack) -> None:
    slack.fail_next(drop=True)  # users.lookupByEmail: nothing was posted yet

    with pytest.raises(Unavailable):
        chat.post(message("vp@example.com"))
    retried = chat.post(message("vp@example.com"))

    assert retried.outcome == "sent"
    assert len(slack.calls("chat.postMessage")) == 1


def test_a_post_slack_refused_is_posted_by_the_retry(chat: SlackChat, slack: FakeSlack) -> None:
    slack.fail_next(status=503)

    with pytest.raises(Unavailable):
        chat.post(message())
    retried = chat.post(message())

    assert retried.outcome == "sent"
    assert len(slack.messages) == 1


def test_rate_limited_is_unavailable_with_retry_after(chat: SlackChat, slack: FakeSlack, store: Store) -> None:
    slack.fail_next(status=429, retry_after=30)

    with pytest.raises(Unavailable) as caught:
        chat.post(message())

    assert caught.value.retry_after == 30
    assert meta(store, "launch-x:gate:1")["state"] == "failed"


def test_a_server_error_is_unavailable(chat: SlackChat, slack: FakeSlack) -> None:
    slack.fail_next(status=500, body="<html>oops</html>")

    with pytest.raises(Unavailable, match="HTTP 500"):
        chat.post(message())


def test_unreachable_slack_is_unavailable(store: Store) -> None:
    chat = SlackChat(store, TOKEN, api_url="http://127.0.0.1:9/api/", timeout=1)

    with pytest.raises(Unavailable, match="cannot reach"):
        chat.post(message())
    assert meta(store, "launch-x:gate:1")["state"] == "failed"


def test_invalid_auth_is_refused_without_the_token(store: Store, slack: FakeSlack) -> None:
    chat = SlackChat(store, "xoxb-wrong-token-9f8e7d", api_url=slack.api_url)

    with pytest.raises(Refused, match="SIGNOFF_SLACK_TOKEN") as caught:
        chat.post(message())

    assert "xoxb-wrong-token-9f8e7d" not in full_text(caught.value)
    assert "xoxb-wrong-token-9f8e7d" not in repr(chat.__dict__)


def test_channel_not_found_is_refused(chat: SlackChat) -> None:
    with pytest.raises(Refused, match="#nowhere"):
        chat.post(message("#nowhere"))


def test_not_in_channel_is_refused_with_what_to_do(chat: SlackChat) -> None:
    with pytest.raises(Refused, match="the bot is not in #private: invite it"):
        chat.post(message("#private"))


def test_unknown_email_is_refused(chat: SlackChat, slack: FakeSlack) -> None:
    with pytest.raises(Refused, match=r"nobody@example\.com"):
        chat.post(message("nobody@example.com"))
    assert slack.calls("chat.postMessage") == []


# ---- updating -------------------------------------------------------


def test_update_message_replaces_it_in_place_without_buttons(chat: SlackChat, slack: FakeSlack) -> None:
    chat.post(message(actions=APPROVAL_ACTIONS))
    [(channel, ts)] = slack.messages

    assert chat.update("launch-x:gate:1", "vp@example.com *approved* the launch") is True

    [call] = slack.calls("chat.update")
    assert (call.body["channel"], call.body["ts"]) == (channel, ts)
    assert [b["type"] for b in call.body["blocks"]] == ["section"]
    assert slack.messages[(channel, ts)]["text"] == "vp@example.com *approved* the launch"


def test_update_of_a_dm_uses_the_dm_channel(chat: SlackChat, slack: FakeSlack) -> None:
    chat.post(message("vp@example.com", actions=APPROVAL_ACTIONS))

    chat.update("launch-x:gate:1", "Rejected by vp@example.com")

    assert slack.calls("chat.update")[0].body["channel"] == "D0VP"


def test_update_of_a_message_never_posted_changes_nothing(chat: SlackChat, slack: FakeSlack) -> None:
    assert chat.update("launch-x:never", "done") is False
    assert slack.calls("chat.update") == []


def test_update_of_a_message_deleted_in_slack_is_refused(chat: SlackChat, slack: FakeSlack) -> None:
    chat.post(message())
    slack.messages.clear()

    with pytest.raises(Refused, match="no longer in C0LAUNCHES"):
        chat.update("launch-x:gate:1", "done")


# ---- answering a click -----------------------------------------------------


def test_tell_answers_a_click_with_an_ephemeral_reply(chat: SlackChat, slack: FakeSlack) -> None:
    chat.tell(slack.response_url("1"), "This button is for vp@example.com, not you")

    [reply] = slack.replies
    assert reply.headers.get("Authorization") is None  # a response_url needs no token
    assert reply.body == {
        "text": "This button is for vp@example.com, not you",
        "response_type": "ephemeral",
        "replace_original": False,
    }


def test_tell_reports_a_refused_reply(chat: SlackChat, slack: FakeSlack) -> None:
    slack.fail_next(status=404, body="no_service")

    with pytest.raises(Unavailable, match="HTTP 404"):
        chat.tell(slack.response_url("1"), "hello")


# ---- who clicked ---------------------------------------------------------


def test_user_email_tells_who_a_slack_user_is(chat: SlackChat, slack: FakeSlack) -> None:
    assert chat.user_email("U0VP") == "vp@example.com"
    assert slack.calls("users.info")[0].body == {"user": "U0VP"}


def test_user_email_of_an_unknown_user_is_refused(chat: SlackChat) -> None:
    with pytest.raises(Refused, match="no user U0NOBODY"):
        chat.user_email("U0NOBODY")


# ---- check --------------------------------------------------------------


def test_check_names_the_workspace_and_the_bot(chat: SlackChat) -> None:
    assert chat.check() == "Slack workspace Acme as bot signoff"


def test_check_with_a_bad_token_is_refused(store: Store, slack: FakeSlack) -> None:
    with pytest.raises(Refused, match="token was not accepted"):
        SlackChat(store, "xoxb-nope", api_url=slack.api_url).check()


# ---- request signatures --------------------------------------------------

BODY = b"payload=%7B%22type%22%3A%22block_actions%22%7D"
NOW = 1_731_000_000.0


def signed(body: bytes, at: float = NOW, secret: str = SECRET) -> dict[str, str]:
    """Headers as Slack sends them: v0 HMAC-SHA256 of ``v0:{timestamp}:{body}``."""
    timestamp = str(int(at))
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": f"v0={digest}"}


def test_a_valid_signature_passes() -> None:
    verify_request(SECRET, signed(BODY), BODY, now=NOW + 10)


def test_header_names_are_case_insensitive() -> None:
    headers = {name.lower(): value for name, value in signed(BODY).items()}
    verify_request(SECRET, headers, BODY, now=NOW)


def test_a_tampered_body_is_refused() -> None:
    with pytest.raises(BadSignature, match="wrong signature"):
        verify_request(SECRET, signed(BODY), BODY.replace(b"block", b"black"), now=NOW)


def test_a_wrong_secret_is_refused() -> None:
    with pytest.raises(BadSignature, match="wrong signature"):
        verify_request(SECRET, signed(BODY, secret="another-apps-secret"), BODY, now=NOW)


def test_a_stale_timestamp_is_refused_even_with_a_valid_signature() -> None:
    with pytest.raises(BadSignature, match="stale"):
        verify_request(SECRET, signed(BODY, at=NOW - 6 * 60), BODY, now=NOW)


@pytest.mark.parametrize("missing", ["X-Slack-Request-Timestamp", "X-Slack-Signature"])
def test_missing_headers_are_refused(missing: str) -> None:
    headers = {k: v for k, v in signed(BODY).items() if k != missing}
    with pytest.raises(BadSignature, match="missing"):
        verify_request(SECRET, headers, BODY, now=NOW)


def test_bad_signature_is_bad_input() -> None:
    assert issubclass(BadSignature, BadInput)


# ---- interactions ------------------------------------------------------------


def block_actions(action_id: str = "signoff_decision:approve", value: str = "tok-123") -> dict[str, object]:
    """A block_actions payload shaped like the example in Slack's interaction-payload reference."""
    return {
        "type": "block_actions",
        "user": {"id": "U0VP", "username": "vp", "name": "vp", "team_id": "T0ACME"},
        "api_app_id": "A0SIGNOFF",
        "token": "verification-token-unused",
        "container": {
            "type": "message",
            "message_ts": "1700000001.000100",
            "channel_id": "C0LAUNCHES",
            "is_ephemeral": False,
        },
        "trigger_id": "1388105719492.1379717998065.9bc163894734c1f415a2c504e81dec91",
        "team": {"id": "T0ACME", "domain": "acme"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": "C0LAUNCHES", "name": "launches"},
        "message": {
            "type": "message",
            "subtype": "bot_message",
            "text": "Go / no-go for *Acme* is open",
            "ts": "1700000001.000100",
            "bot_id": "B0SIGNOFF",
            "blocks": [],
        },
        "state": {"values": {}},
        "response_url": "https://hooks.slack.com/actions/T0ACME/1388105719492/abcDEF",
        "actions": [
            {
                "action_id": action_id,
                "block_id": "signoff_decision",
                "text": {"type": "plain_text", "text": "Approve", "emoji": True},
                "value": value,
                "style": "primary",
                "type": "button",
                "action_ts": "1700000100.123456",
            }
        ],
    }


def form(payload: object) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def test_parse_interaction_reads_the_decision() -> None:
    decision = parse_interaction(form(block_actions()))

    assert decision.model_dump() == {
        "token": "tok-123",
        "decision": "approve",
        "user_id": "U0VP",
        "user_name": "vp",
        "channel_id": "C0LAUNCHES",
        "message_ts": "1700000001.000100",
        "response_url": "https://hooks.slack.com/actions/T0ACME/1388105719492/abcDEF",
    }


def test_parse_interaction_reads_a_rejection() -> None:
    assert parse_interaction(form(block_actions("signoff_decision:reject"))).decision == "reject"


def test_buttons_we_post_round_trip_through_parse_interaction(chat: SlackChat, slack: FakeSlack) -> None:
    chat.post(message(actions=APPROVAL_ACTIONS))
    reject = slack.calls("chat.postMessage")[0].body["blocks"][1]["elements"][1]

    decision = parse_interaction(form(block_actions(reject["action_id"], reject["value"])))

    assert (decision.decision, decision.token) == ("reject", "tok-123")


def test_a_link_button_click_is_not_a_decision() -> None:
    with pytest.raises(NotADecision):
        parse_interaction(form(block_actions("signoff_link:2")))


def test_another_interaction_type_is_not_a_decision() -> None:
    with pytest.raises(NotADecision):
        parse_interaction(form({"type": "view_submission", "view": {}}))


@pytest.mark.parametrize(
    "body",
    [b"", b"text=hello", b"payload=not-json", form([1, 2])],
    ids=["empty", "no-payload", "not-json", "not-an-object"],
)
def test_parse_interaction_refuses_what_is_not_an_interaction(body: bytes) -> None:
    with pytest.raises(BadInput):
        parse_interaction(body)


def test_parse_interaction_refuses_a_decision_without_a_token() -> None:
    with pytest.raises(BadInput, match="without a token"):
        parse_interaction(form(block_actions(value="")))


def test_verify_then_parse_a_signed_click() -> None:
    body = form(block_actions())
    now = time.time()

    verify_request(SECRET, signed(body, at=now), body, now=now)
    assert parse_interaction(body).token == "tok-123"
